import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Response of GET /api/v1/tenant. Fastify serializes with it, so no other field can leak. */
export const TenantPublicFaceSchema = Type.Object(
  {
    slug: Type.String(),
    name: Type.String(),
    /** True on the platform host (slug "", name "Plura platform"), false on a tenant's hosts. */
    platform: Type.Boolean(),
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

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Host = Type.String({ minLength: 1, maxLength: 253 });
const Hosts = Type.Array(Host, { maxItems: 100 });
/** Text the services check in detail (colour, language, time zone); the schema only bounds it. */
const ShortText = Type.String({ maxLength: 200 });
/** A platform admin acting in a tenant may name it in the body too (as X-Plura-Tenant or ?tenant=). */
const ActingTenant = Type.Optional(Type.String({ minLength: 1, maxLength: 253 }));

/** A tenant as platform admins see it (GET/POST/PATCH /api/v1/tenants...). */
export const TenantAdminSchema = Type.Object(
  {
    slug: Type.String(),
    name: Type.String(),
    hosts: Type.Array(Type.String()),
    status: Type.Union([Type.Literal('active'), Type.Literal('deactivated')]),
    attributes: Type.Record(Type.String(), Type.String()),
    limits: Type.Object({ maxUsers: Nullable(Type.Integer()), maxSites: Nullable(Type.Integer()) }, { additionalProperties: false }),
    branding: Type.Object(
      { productName: Nullable(Type.String()), primaryColor: Nullable(Type.String()), logoUrl: Nullable(Type.String()) },
      { additionalProperties: false },
    ),
    language: Nullable(Type.String()),
    timezone: Nullable(Type.String()),
    /** Where its data lives, for operators: `sqlite` or the PostgreSQL URL without password and the schema. */
    storage: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);

export const TenantListSchema = Type.Object({ tenants: Type.Array(TenantAdminSchema) }, { additionalProperties: false });

/** POST /api/v1/tenants. `storage`: "sqlite" or a postgres:// URL; default database.tenant_storage. */
export const CreateTenantBodySchema = Type.Object(
  {
    slug: Type.String({ minLength: 1, maxLength: 40 }),
    hosts: Type.Array(Host, { minItems: 1, maxItems: 100 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    storage: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);
export type CreateTenantBody = Static<typeof CreateTenantBodySchema>;

/** Branding and defaults: null restores the platform's default. */
const brandingFields = {
  productName: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  primaryColor: Type.Optional(Nullable(ShortText)),
  language: Type.Optional(Nullable(ShortText)),
  timezone: Type.Optional(Nullable(ShortText)),
};

/** PATCH /api/v1/tenants/:slug (platform admins). Absent fields are left as they are. */
export const UpdateTenantBodySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    addHosts: Type.Optional(Hosts),
    removeHosts: Type.Optional(Hosts),
    /** Set these attributes (key → value); others are kept. */
    attributes: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1000 }), { maxProperties: 100 })),
    removeAttributes: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
    maxUsers: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
    maxSites: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
    ...brandingFields,
  },
  { additionalProperties: false },
);
export type UpdateTenantBody = Static<typeof UpdateTenantBodySchema>;

/** PATCH /api/v1/tenant (the tenant's super users): branding and defaults of their own tenant. */
export const OwnTenantBodySchema = Type.Object({ ...brandingFields, tenant: ActingTenant }, { additionalProperties: false });
export type OwnTenantBody = Static<typeof OwnTenantBodySchema>;

/** The own tenant as its super users edit it: raw values, null where the platform's default applies. */
export const OwnTenantSchema = Type.Object(
  {
    slug: Type.String(),
    name: Type.String(),
    hosts: Type.Array(Type.String()),
    branding: Type.Object(
      { productName: Nullable(Type.String()), primaryColor: Nullable(Type.String()), logoUrl: Nullable(Type.String()) },
      { additionalProperties: false },
    ),
    language: Nullable(Type.String()),
    timezone: Nullable(Type.String()),
  },
  { additionalProperties: false },
);

/** Answer of PUT /api/v1/tenant/logo. */
export const LogoSchema = Type.Object(
  { logoUrl: Type.String(), contentType: Type.String(), bytes: Type.Integer() },
  { additionalProperties: false },
);

const SettingValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.String())]);

/** One setting a tenant may override, with the layer its value comes from. Secrets: value and default null, `set` says whether one is configured. */
export const TenantSettingSchema = Type.Object(
  {
    name: Type.String(),
    section: Type.String(),
    value: Nullable(SettingValue),
    layer: Type.Union([Type.Literal('default'), Type.Literal('common'), Type.Literal('environment'), Type.Literal('tenant')]),
    default: Nullable(SettingValue),
    type: Type.Union([Type.Literal('int'), Type.Literal('string'), Type.Literal('bool'), Type.Literal('list')]),
    description: Type.String(),
    secret: Type.Boolean(),
    set: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const TenantSettingsSchema = Type.Object({ settings: Type.Array(TenantSettingSchema) }, { additionalProperties: false });

/**
 * PUT /api/v1/tenant/settings: `Section.key` → value (text, number, boolean, or the
 * items of a list setting); null removes the tenant's own value. All or nothing.
 */
export const TenantSettingsBodySchema = Type.Object(
  {
    settings: Type.Record(
      Type.String({ minLength: 1, maxLength: 200 }),
      Nullable(Type.Union([Type.String({ maxLength: 8192 }), Type.Number(), Type.Boolean(), Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000 })])),
      { maxProperties: 200 },
    ),
    tenant: ActingTenant,
  },
  { additionalProperties: false },
);
export type TenantSettingsBody = Static<typeof TenantSettingsBodySchema>;
