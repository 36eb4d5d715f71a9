import type { FastifyRequest } from 'fastify';

/**
 * `scheme://host[:port]` as the client reached us, or for another host on the same
 * scheme and port (a tenant's host, from the platform host): links and redirects that
 * must land where the browser can follow them.
 */
export function requestOrigin(request: FastifyRequest, host?: string): string {
  if (host === undefined) return `${request.protocol}://${request.host}`;
  const port = /:(\d{1,5})$/.exec(request.host ?? '');
  return `${request.protocol}://${host.includes(':') ? `[${host}]` : host}${port ? `:${port[1]}` : ''}`;
}
