import { Type, type Static } from '@sinclair/typebox';

/** Response of GET /api/v1/tenant. Fastify serializes with it, so no other field can leak. */
export const TenantPublicFaceSchema = Type.Object(
  {
    slug: Type.String(),
    name: Type.String(),
    branding: Type.Object({
      productName: Type.String(),
      logoUrl: Type.Union([Type.String(), Type.Null()]),
      primaryColor: Type.Union([Type.String(), Type.Null()]),
    }),
    language: Type.String(),
  },
  { additionalProperties: false },
);
export type TenantPublicFaceResponse = Static<typeof TenantPublicFaceSchema>;

export const ErrorResponseSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

export const TenantParamsSchema = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 253 }) });

export const LoginParamsSchema = Type.Object({ login: Type.String({ minLength: 1, maxLength: 200 }) });

/** `single-tenant` / `multi-tenant` (or `single` / `multi`). */
export const StrategyBodySchema = Type.Object({
  strategy: Type.Union(['single-tenant', 'multi-tenant', 'single', 'multi'].map((name) => Type.Literal(name))),
});

/** `tenant`: where the user goes (null: the platform); `from`: the tenant it leaves (else X-Plura-Tenant, else the platform). */
export const AssignUserBodySchema = Type.Object({
  tenant: Type.Union([Type.String({ minLength: 1, maxLength: 253 }), Type.Null()]),
  from: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
});
