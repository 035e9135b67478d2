import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { ErrorBody, RoleSchema } from '../auth/auth-schemas';
import { principalOf } from '../auth/request-auth';
import { notFound } from '../errors';
import { OrgId, Password, UserId, Username } from '../http/schemas';
import type { UserStore } from '../storage/user-store';
import type { UserAdmin } from './user-admin';

export const UserView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: RoleSchema,
  orgId: Type.String(),
  totp: Type.Boolean(),
  disabled: Type.Boolean(),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
});
export type UserView = Static<typeof UserView>;

const CreateUser = Type.Object({ username: Username, password: Password, role: RoleSchema, orgId: OrgId }, { additionalProperties: false });
const PatchUser = Type.Object(
  { role: Type.Optional(RoleSchema), orgId: Type.Optional(OrgId), password: Type.Optional(Password), disabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
const IdParams = Type.Object({ id: UserId });

export interface UserRoutesDeps {
  users: UserStore;
  admin: UserAdmin;
}

/** `/api/users`: accounts, managed by admins only. */
export const userRoutes: FastifyPluginCallbackTypebox<UserRoutesDeps> = (app, { users, admin }, done) => {
  const manage = { access: { kind: 'session', permission: 'user.manage' } } as const;

  app.get(
    '/api/users',
    { config: manage, schema: { summary: 'Every account', tags: ['users'], response: { 200: Type.Object({ users: Type.Array(UserView) }) } } },
    () => ({ users: users.list() }),
  );

  app.post(
    '/api/users',
    {
      config: manage,
      schema: { summary: 'Create an account', tags: ['users'], body: CreateUser, response: { 201: UserView, 400: ErrorBody, 409: ErrorBody } },
    },
    async (req, reply) => reply.status(201).send(await admin.create(principalOf(req), req.ip, req.body)),
  );

  app.patch(
    '/api/users/:id',
    {
      config: manage,
      schema: {
        summary: 'Change role or organisation, reset the password, disable or enable',
        description: 'Withdrawing access ends the account\'s sessions and live views at once.',
        tags: ['users'],
        params: IdParams,
        body: PatchUser,
        response: { 200: UserView, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => admin.update(principalOf(req), req.ip, req.params.id, req.body),
  );

  app.post(
    '/api/users/:id/totp',
    {
      config: manage,
      schema: {
        summary: 'Issue a TOTP secret (shown once)',
        tags: ['users'],
        params: IdParams,
        response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String() }), 404: ErrorBody },
      },
    },
    (req) => admin.issueTotp(principalOf(req), req.ip, req.params.id),
  );

  app.delete(
    '/api/users/:id/totp',
    { config: manage, schema: { summary: 'Remove TOTP from an account', tags: ['users'], params: IdParams, response: { 204: Type.Null(), 404: ErrorBody } } },
    async (req, reply) => {
      if (!users.get(req.params.id)) throw notFound('user');
      admin.removeTotp(principalOf(req), req.ip, req.params.id);
      return reply.status(204).send(null);
    },
  );
  done();
};
