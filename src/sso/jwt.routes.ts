import type { FastifyInstance } from 'fastify';
import type { RequestContextDeps } from '../http/request-context.js';

export async function jwtRoutes(_app: FastifyInstance, _deps: RequestContextDeps): Promise<void> {}
