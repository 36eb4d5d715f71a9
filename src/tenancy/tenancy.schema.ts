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
