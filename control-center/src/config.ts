import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

const GatewayBootstrap = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
    schoolId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    secret: Type.String({ minLength: 8 }),
  },
  { additionalProperties: false },
);

export const CenterConfig = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    dataDir: Type.String({ default: 'data' }),
    /** Access token of the live page until accounts exist; generated at start when absent. */
    viewerToken: Type.Optional(Type.String({ minLength: 16 })),
    loopbackOnly: Type.Boolean({ default: false }),
    upstreamLingerMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 5000 }),
    /** Fan-out worker threads (each carries the feeds of some cameras). Default: one per core. */
    fanoutShards: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    /** Fan-out shards log event-loop delay, GC pauses, CPU and counters every 5 s. */
    fanoutTrace: Type.Boolean({ default: false }),
    logLevel: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
    gateways: Type.Array(GatewayBootstrap, { default: [] }),
  },
  { additionalProperties: false },
);
export type CenterConfig = Static<typeof CenterConfig>;

const checker = TypeCompiler.Compile(CenterConfig);

/**
 * Layers: defaults → file (YAML/JSON) → environment (`SCHOOLCAM_CENTER_PORT`,
 * `SCHOOLCAM_CENTER_HOST`, `SCHOOLCAM_VIEWER_TOKEN`) → validate → freeze. The only
 * module of the centre that reads `process.env`. Throws `Error('<path> <message>')`.
 */
export function loadCenterConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Readonly<CenterConfig> {
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file} cannot be read: ${(err as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null) throw new Error(`${file} must hold an object`);
    fromFile = raw as Record<string, unknown>;
  }
  const cfg: Record<string, unknown> = { host: '127.0.0.1', port: 8080, dataDir: 'data', loopbackOnly: false, upstreamLingerMs: 5000, fanoutTrace: false, logLevel: 'info', gateways: [], ...fromFile };
  if (env.SCHOOLCAM_CENTER_PORT) cfg.port = Number(env.SCHOOLCAM_CENTER_PORT);
  if (env.SCHOOLCAM_CENTER_HOST) cfg.host = env.SCHOOLCAM_CENTER_HOST;
  if (env.SCHOOLCAM_VIEWER_TOKEN) cfg.viewerToken = env.SCHOOLCAM_VIEWER_TOKEN;
  if (env.SCHOOLCAM_FANOUT_TRACE) cfg.fanoutTrace = env.SCHOOLCAM_FANOUT_TRACE === '1' || env.SCHOOLCAM_FANOUT_TRACE === 'true';
  if (!checker.Check(cfg)) {
    const e = checker.Errors(cfg).First();
    throw new Error(`${e?.path || '/'} ${e?.message ?? 'invalid'}`);
  }
  return Object.freeze(cfg);
}
