import { type Static, Type } from '@sinclair/typebox';
import { ROLES } from '../access/principal';

/** Schemas of `/api/session`, shared by the routes, the OpenAPI document and the page (type-only import). */
export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

export const SignInRequest = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    /** The 6-digit one-time code, for accounts that have TOTP. */
    totp: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
  },
  { additionalProperties: false },
);
export type SignInRequest = Static<typeof SignInRequest>;

export const SessionBody = Type.Object({
  user: Type.Object({ username: Type.String(), role: RoleSchema, org: Type.String() }),
  /** Send back as `x-csrf-token` on every state-changing request. */
  csrfToken: Type.String(),
});
export type SessionBody = Static<typeof SessionBody>;

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
export type ErrorBody = Static<typeof ErrorBody>;
