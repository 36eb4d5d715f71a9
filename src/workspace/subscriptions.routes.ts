import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PluraError } from '../core/errors.js';
import { restToken } from '../access/access.routes.js';
import { withRequestContext, type RequestAuth, type RequestContextDeps } from '../http/request-context.js';
import {
  createSubscription,
  deleteSubscription,
  frequencies,
  getSubscription,
  groupSubscriptions,
  listSubscriptions,
  reportFormats,
  reportPeriods,
  sendSubscriptionNow,
  setGroupSubscriptions,
  updateSubscription,
} from './subscriptions.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const GroupParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((value) => Type.Literal(value)));

/** What a subscriber chooses; the item is named on creation only. */
const SubscriptionFields = {
  recipients: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 254 }), { minItems: 1, maxItems: 20 })),
  frequency: Type.Optional(literals(frequencies)),
  hour: Type.Optional(Type.Integer({ minimum: 0, maximum: 23 })),
  weekday: Type.Optional(Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday: 1 Monday ... 7 Sunday (weekly)' })),
  monthDay: Type.Optional(Type.Integer({ minimum: 1, maximum: 31, description: 'day of the month; shorter months send on their last day (monthly)' })),
  idSite: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  period: Type.Optional(literals(reportPeriods)),
  date: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
  format: Type.Optional(literals(reportFormats)),
  enabled: Type.Optional(Type.Boolean()),
};
const CreateBody = Type.Object({ itemId: Type.String({ minLength: 1, maxLength: 64 }), ...SubscriptionFields });
const UpdateBody = Type.Object(SubscriptionFields);

/** `/api/v1/subscriptions` (a user's scheduled email reports) and `/api/v1/groups/:id/subscriptions` (who may subscribe). */
export async function subscriptionRoutes(root: FastifyInstance, deps: RequestContextDeps): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const api = <T>(request: Parameters<typeof withRequestContext>[1], reply: FastifyReply, fn: (auth: RequestAuth) => Promise<T>): Promise<T> =>
    withRequestContext(deps, request, reply, { surface: 'api', token: restToken(request) }, (auth) => {
      if (auth.ctx.actor.kind === 'anonymous') throw new PluraError('unauthenticated', 'Sign in first.');
      return fn(auth);
    });

  app.get('/api/v1/subscriptions', async (request, reply) => api(request, reply, async (auth) => ({ subscriptions: await listSubscriptions(auth.ctx) })));
  app.post('/api/v1/subscriptions', { schema: { body: CreateBody } }, async (request, reply) => {
    const created = await api(request, reply, (auth) => createSubscription(auth.ctx, request.body));
    return reply.code(201).send(created);
  });
  app.get('/api/v1/subscriptions/:id', { schema: { params: IdParams } }, async (request, reply) => api(request, reply, (auth) => getSubscription(auth.ctx, request.params.id)));
  app.patch('/api/v1/subscriptions/:id', { schema: { params: IdParams, body: UpdateBody } }, async (request, reply) =>
    api(request, reply, (auth) => updateSubscription(auth.ctx, request.params.id, request.body)),
  );
  app.delete('/api/v1/subscriptions/:id', { schema: { params: IdParams } }, async (request, reply) => {
    await api(request, reply, (auth) => deleteSubscription(auth.ctx, request.params.id));
    return reply.code(204).send();
  });
  // Send now, to try a subscription: the outcome is recorded like a scheduled run's.
  app.post('/api/v1/subscriptions/:id/send', { schema: { params: IdParams } }, async (request, reply) => {
    const outcome = await api(request, reply, (auth) => sendSubscriptionNow(auth.ctx, request.params.id));
    if (outcome.sent) return { sent: true, messageId: outcome.messageId, recipients: outcome.recipients };
    // The mail server failed (502), or the subscription cannot be served as it stands (409).
    return reply.code(outcome.retry ? 502 : 409).send({ error: { code: outcome.retry ? 'mail_failed' : 'subscription_unavailable', message: outcome.error } });
  });

  app.get('/api/v1/groups/:id/subscriptions', { schema: { params: GroupParams } }, async (request, reply) => api(request, reply, (auth) => groupSubscriptions(auth.ctx, request.params.id)));
  app.put('/api/v1/groups/:id/subscriptions', { schema: { params: GroupParams, body: Type.Object({ allowed: Type.Boolean() }) } }, async (request, reply) =>
    api(request, reply, (auth) => setGroupSubscriptions(auth.ctx, request.params.id, request.body.allowed)),
  );
}
