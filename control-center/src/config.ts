import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { firstSchemaError } from '@schoolcam/protocol/schema/first-error';
import { ROLES } from './access/principal';

const Minutes = (def: number, max: number) => Type.Integer({ minimum: 1, maximum: max, default: def });

export const CenterConfig = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    dataDir: Type.String({ default: 'data' }),
    /**
     * The origin browsers load the dashboard from, when it differs from what they send as
     * `Host` (a reverse proxy). Used for the Origin check on the viewer socket and state changes.
     */
    publicOrigin: Type.Optional(Type.String({ pattern: '^https?://[^/]+$' })),
    /** Serve HTTPS/WSS with this certificate and key (PEM files). The session cookie is then `Secure`. */
    tls: Type.Optional(Type.Object({ cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }, { additionalProperties: false })),
    loopbackOnly: Type.Boolean({ default: false }),
    upstreamLingerMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 5000 }),
    /** Fan-out worker threads (each carries the feeds of some cameras). Default: one per core. */
    fanoutShards: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    /** Fan-out shards log event-loop delay, GC pauses, CPU and counters every 5 s. */
    fanoutTrace: Type.Boolean({ default: false }),
    logLevel: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('silent')], { default: 'info' }),
    session: Type.Object(
      {
        /** A session unused this long ends. Default 30. */
        idleMinutes: Minutes(30, 24 * 60),
        /** A session ends this long after sign-in. Default 12 h. */
        absoluteMinutes: Minutes(12 * 60, 7 * 24 * 60),
      },
      { additionalProperties: false, default: {} },
    ),
    login: Type.Object(
      {
        maxFailuresPerUser: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
        lockMinutes: Minutes(15, 24 * 60),
        windowMinutes: Minutes(15, 24 * 60),
        maxFailuresPerAddress: Type.Integer({ minimum: 1, maximum: 100_000, default: 20 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Roles that must sign in with a one-time code (RFC 6238), e.g. [police, operator]. */
    totpRequiredFor: Type.Array(Type.Union(ROLES.map((r) => Type.Literal(r))), { default: [], uniqueItems: true }),
    /**
     * A gateway whose link closed and that is not back within this raises a `gateway_offline`
     * alarm (one that missed its heartbeat raises it at once); also how long gateways have to
     * connect after the centre starts. Default 15000 ms.
     */
    gatewayOfflineGraceMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 15_000 }),
    /** How long a gateway enrolment token stays valid. Default 24 h. */
    enrolmentTokenMinutes: Minutes(24 * 60, 30 * 24 * 60),
    limits: Type.Object(
      {
        /** Tiles (live views, starting or running) one viewer socket may hold. Default 32. */
        tilesPerSocket: Type.Integer({ minimum: 1, maximum: 256, default: 32 }),
        /** Live views one account may hold across all its sockets. Default 48. */
        viewersPerUser: Type.Integer({ minimum: 1, maximum: 10_000, default: 48 }),
        /** Live views the centre serves at once. Default 300. */
        viewersTotal: Type.Integer({ minimum: 1, maximum: 100_000, default: 300 }),
        /** A browser that does not answer an offer within this is dropped. Default 15000 ms. */
        answerTimeoutMs: Type.Integer({ minimum: 100, maximum: 300_000, default: 15_000 }),
        /** Messages per second a gateway may send on its link (burst: 4 s worth). Default 200. */
        linkMessagesPerSecond: Type.Integer({ minimum: 1, maximum: 100_000, default: 200 }),
        /** HTTP requests per minute per client address. Default 1200. */
        requestsPerMinute: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1200 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Sharing with municipal police (see grants/README.md). A grant runs `defaultMinutes`
     * unless its creator asks for another length, never more than `maxMinutes` in all
     * (extensions included). With `twoPersonRule`, a grant needs a second operator's approval
     * before it is active. An emergency raised by a school opens its cameras to its town's force
     * for `emergencyMinutes` at once (pre-approved here); `emergencyForces` maps a town to the
     * force that gets it when it is not the town's own.
     */
    grants: Type.Object(
      {
        /** Default 480 (8 h). */
        defaultMinutes: Minutes(8 * 60, 30 * 24 * 60),
        /** Hard maximum of a grant's whole life, extensions included. Default 1440 (24 h). */
        maxMinutes: Minutes(24 * 60, 30 * 24 * 60),
        /** A grant needs the approval of a second operator. Default false. */
        twoPersonRule: Type.Boolean({ default: false }),
        /** Length of an emergency grant. Default 60. */
        emergencyMinutes: Minutes(60, 24 * 60),
        /** Town id → police force id, where the emergency force is not the town's own. */
        emergencyForces: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }), Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }), { default: {} }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * RTSP re-export of granted cameras to police video systems: `rtsp://…/grant/<grantId>/<cameraId>`,
     * Digest auth with each grant's credentials. Served when `port` is set (0 picks a free one);
     * `host` defaults to the centre's `host`; `publicUrl` (`rtsp://name:port`) is the base of the
     * URLs handed out when police systems reach the centre by another name; `udp` (default true)
     * offers RTP over UDP to clients asking for it; `tls` (PEM files) serves RTSPS instead.
     */
    rtspExport: Type.Object(
      {
        port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
        host: Type.Optional(Type.String({ minLength: 1 })),
        publicUrl: Type.Optional(Type.String({ pattern: '^rtsps?://[^/@\\s]+$' })),
        udp: Type.Optional(Type.Boolean()),
        tls: Type.Optional(Type.Object({ cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }, { additionalProperties: false })),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Prometheus metrics: `GET /metrics` on the main listener with `Authorization: Bearer
     * <token>`, and/or on a separate listener (`port`, on `host`, default 127.0.0.1) meant
     * for a monitoring network only. Without either, metrics are not served.
     */
    metrics: Type.Object(
      {
        token: Type.Optional(Type.String({ minLength: 16 })),
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * The dashboard. By default the centre serves the install-time build (`npm run build:web`,
     * in `control-center/dist/web`, or `dir`) and refuses to start without it. `dev: true`
     * builds it in memory at start instead: for working on the page only.
     */
    web: Type.Object(
      {
        dev: Type.Boolean({ default: false }),
        dir: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type CenterConfig = Static<typeof CenterConfig>;

/** What callers may leave out: every field with a default, and the sub-fields of each section. */
export type CenterConfigInput = { [K in keyof CenterConfig]?: CenterConfig[K] extends object ? Partial<CenterConfig[K]> : CenterConfig[K] };

const checker = TypeCompiler.Compile(CenterConfig);

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: 'data',
  loopbackOnly: false,
  upstreamLingerMs: 5000,
  fanoutTrace: false,
  logLevel: 'info',
  session: { idleMinutes: 30, absoluteMinutes: 12 * 60 },
  login: { maxFailuresPerUser: 5, lockMinutes: 15, windowMinutes: 15, maxFailuresPerAddress: 20 },
  totpRequiredFor: [],
  enrolmentTokenMinutes: 24 * 60,
  gatewayOfflineGraceMs: 15_000,
  limits: { tilesPerSocket: 32, viewersPerUser: 48, viewersTotal: 300, answerTimeoutMs: 15_000, linkMessagesPerSecond: 200, requestsPerMinute: 1200 },
  metrics: { host: '127.0.0.1' },
  web: { dev: false },
  grants: { defaultMinutes: 8 * 60, maxMinutes: 24 * 60, twoPersonRule: false, emergencyMinutes: 60, emergencyForces: {} },
  rtspExport: {},
} as const;

/** Keys of the first release's config that are gone, with what replaced them. */
const RETIRED: Record<string, string> = {
  viewerToken: 'the shared viewer token is gone: people sign in with their own accounts',
  gateways: 'gateway secrets are no longer configured: an admin creates each gateway and enrols it with a one-time token',
};

export class CenterConfigError extends Error {
  readonly code = 'CONFIG';
}

/** Applies defaults (section by section), validates (unknown keys rejected) and freezes. */
export function resolveCenterConfig(input: CenterConfigInput | Record<string, unknown>): Readonly<CenterConfig> {
  const raw = input as Record<string, unknown>;
  for (const [key, why] of Object.entries(RETIRED)) if (key in raw) throw new CenterConfigError(`/${key} ${why}`);
  const cfg: Record<string, unknown> = { ...DEFAULTS, ...raw };
  for (const section of ['session', 'login', 'limits', 'metrics', 'web', 'grants', 'rtspExport'] as const) {
    const given = raw[section];
    cfg[section] = given !== null && typeof given === 'object' ? { ...DEFAULTS[section], ...given } : (given ?? { ...DEFAULTS[section] });
  }
  const problem = firstSchemaError(checker, cfg);
  if (problem) throw new CenterConfigError(problem);
  const grants = (cfg as CenterConfig).grants;
  if (grants.defaultMinutes > grants.maxMinutes) throw new CenterConfigError(`/grants/defaultMinutes ${grants.defaultMinutes} exceeds /grants/maxMinutes ${grants.maxMinutes}`);
  if (grants.emergencyMinutes > grants.maxMinutes) throw new CenterConfigError(`/grants/emergencyMinutes ${grants.emergencyMinutes} exceeds /grants/maxMinutes ${grants.maxMinutes}`);
  return deepFreeze(cfg as CenterConfig);
}

/**
 * Layers: defaults → file (YAML/JSON) → environment (`SCHOOLCAM_CENTER_PORT`,
 * `SCHOOLCAM_CENTER_HOST`, `SCHOOLCAM_DATA_DIR`, `SCHOOLCAM_METRICS_TOKEN`,
 * `SCHOOLCAM_FANOUT_TRACE`, `SCHOOLCAM_WEB_DEV`, `SCHOOLCAM_RTSP_EXPORT_PORT`) → validate → freeze. The only
 * module of the centre that reads `process.env`. Throws `CenterConfigError('<path> <message>')`.
 */
export function loadCenterConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Readonly<CenterConfig> {
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CenterConfigError(`${file} cannot be read: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null) throw new CenterConfigError(`${file} must hold an object`);
    fromFile = raw as Record<string, unknown>;
  }
  const cfg: Record<string, unknown> = { ...fromFile };
  if (env.SCHOOLCAM_CENTER_PORT) cfg.port = Number(env.SCHOOLCAM_CENTER_PORT);
  if (env.SCHOOLCAM_CENTER_HOST) cfg.host = env.SCHOOLCAM_CENTER_HOST;
  if (env.SCHOOLCAM_DATA_DIR) cfg.dataDir = env.SCHOOLCAM_DATA_DIR;
  if (env.SCHOOLCAM_FANOUT_TRACE) cfg.fanoutTrace = env.SCHOOLCAM_FANOUT_TRACE === '1' || env.SCHOOLCAM_FANOUT_TRACE === 'true';
  if (env.SCHOOLCAM_RTSP_EXPORT_PORT) cfg.rtspExport = { ...(cfg.rtspExport as object | undefined), port: Number(env.SCHOOLCAM_RTSP_EXPORT_PORT) };
  if (env.SCHOOLCAM_METRICS_TOKEN) cfg.metrics = { ...(cfg.metrics as object | undefined), token: env.SCHOOLCAM_METRICS_TOKEN };
  if (env.SCHOOLCAM_WEB_DEV) cfg.web = { ...(cfg.web as object | undefined), dev: env.SCHOOLCAM_WEB_DEV === '1' || env.SCHOOLCAM_WEB_DEV === 'true' };
  return resolveCenterConfig(cfg);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
