import { Readable } from 'node:stream';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { principalOf } from '../auth/request-auth';
import { CameraId, OrgId } from '../http/schemas';
import { type AuditLog, type AuditRecord, auditCsvHeader, auditCsvLine } from './audit-log';

export const AuditEntry = Type.Object({
  seq: Type.Integer(),
  at: Type.Number(),
  kind: Type.String(),
  outcome: Type.String(),
  actor: Type.Union([Type.String(), Type.Null()]),
  role: Type.Union([Type.String(), Type.Null()]),
  org: Type.Union([Type.String(), Type.Null()]),
  address: Type.Union([Type.String(), Type.Null()]),
  cameraId: Type.Union([Type.String(), Type.Null()]),
  schoolId: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String(),
  hash: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntry>;

const Filter = {
  kind: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z.]+$' })),
  actor: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z0-9][a-z0-9._-]*$' })),
  cameraId: Type.Optional(CameraId),
  schoolId: Type.Optional(OrgId),
  /** ms since the epoch, inclusive. */
  from: Type.Optional(Type.Integer({ minimum: 0 })),
  /** ms since the epoch, exclusive. */
  to: Type.Optional(Type.Integer({ minimum: 0 })),
};

export const VerifyBody = Type.Object({
  ok: Type.Boolean(),
  entries: Type.Integer(),
  firstBad: Type.Optional(Type.Object({ seq: Type.Integer(), problem: Type.String() })),
});
export type VerifyBody = Static<typeof VerifyBody>;

/** `/api/audit`: read, export (CSV, JSON) and verify the audit log. Auditors only. */
export const auditRoutes: FastifyPluginCallbackTypebox<{ audit: AuditLog }> = (app, { audit }, done) => {
  const read = { access: { kind: 'session', permission: 'audit.read' } } as const;

  app.get(
    '/api/audit',
    {
      config: read,
      schema: {
        summary: 'Audit entries, newest first',
        tags: ['audit'],
        querystring: Type.Object(
          { ...Filter, before: Type.Optional(Type.Integer({ minimum: 1, description: 'entries with a smaller seq (paging)' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ entries: Type.Array(AuditEntry) }) },
      },
    },
    (req) => {
      const { before, ...filter } = req.query;
      return { entries: audit.list({ ...filter, beforeSeq: before, limit: filter.limit ?? 100 }) };
    },
  );

  app.get(
    '/api/audit/export',
    {
      config: read,
      schema: {
        summary: 'Export the audit log (oldest first) as CSV or JSON',
        tags: ['audit'],
        querystring: Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('json')]) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const { format } = req.query;
      audit.record({ kind: 'audit.export', outcome: 'ok', actor: p, address: req.ip, detail: { format } });
      const stamp = new Date().toISOString().slice(0, 10);
      void reply.header('content-disposition', `attachment; filename="schoolcam-audit-${stamp}.${format}"`).header('cache-control', 'no-store');
      if (format === 'csv') {
        void reply.type('text/csv; charset=utf-8');
        return reply.send(Readable.from(csvLines(audit.all())));
      }
      void reply.type('application/json; charset=utf-8');
      return reply.send(Readable.from(jsonLines(audit.all())));
    },
  );

  app.get(
    '/api/audit/verify',
    { config: read, schema: { summary: 'Check the hash chain', tags: ['audit'], response: { 200: VerifyBody } } },
    () => audit.verify(),
  );
  done();
};

function* csvLines(entries: Iterable<AuditRecord>): Generator<string> {
  yield auditCsvHeader();
  for (const e of entries) yield auditCsvLine(e);
}

function* jsonLines(entries: Iterable<AuditRecord>): Generator<string> {
  yield '{"entries":[\n';
  let first = true;
  for (const e of entries) {
    yield `${first ? '' : ',\n'}${JSON.stringify(e)}`;
    first = false;
  }
  yield '\n]}\n';
}
