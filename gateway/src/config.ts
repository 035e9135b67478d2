import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });

export const CameraConfig = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    /** Resolve the stream through ONVIF (GetProfiles + GetStreamUri); key frames on demand via SetSynchronizationPoint. */
    onvif: Type.Optional(
      Type.Object(
        {
          xaddr: Type.String({ pattern: '^https?://' }),
          username: Type.String(),
          password: Type.String(),
          /** Which profile to relay: the largest (main) or the smallest (sub). Default main. */
          profile: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('sub')])),
        },
        { additionalProperties: false },
      ),
    ),
    /** Or a plain RTSP URL (no key frames on demand). */
    rtsp: Type.Optional(
      Type.Object(
        { url: Type.String({ pattern: '^rtsp://' }), username: Type.Optional(Type.String()), password: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CameraConfig = Static<typeof CameraConfig>;

export const GatewayConfig = Type.Object(
  {
    gatewayId: Id,
    schoolId: Id,
    /** Control centre base URL, e.g. http://centre:8080 (the link uses ws(s)://…/link). */
    centerUrl: Type.String({ pattern: '^(https?|wss?)://' }),
    secret: Type.String({ minLength: 8 }),
    /** Keep pulling a camera this long after its last viewer left. Default 10000 ms. */
    lingerMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 10_000 }),
    /** Keep WebRTC media on 127.0.0.1 (single-host demo). Default false. */
    loopbackOnly: Type.Boolean({ default: false }),
    logLevel: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
    cameras: Type.Array(CameraConfig, { maxItems: 512 }),
  },
  { additionalProperties: false },
);
export type GatewayConfig = Static<typeof GatewayConfig>;
export type GatewayConfigInput = Omit<GatewayConfig, 'lingerMs' | 'loopbackOnly' | 'logLevel'> & Partial<GatewayConfig>;

const checker = TypeCompiler.Compile(GatewayConfig);

export class ConfigError extends Error {
  readonly code = 'CONFIG';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path} ${message}`);
  }
}

/** Applies defaults, validates (unknown keys rejected), checks cross-field rules and freezes. */
export function resolveGatewayConfig(input: unknown): Readonly<GatewayConfig> {
  const cfg = { lingerMs: 10_000, loopbackOnly: false, logLevel: 'info', ...(input as object) };
  if (!checker.Check(cfg)) {
    const e = checker.Errors(cfg).First();
    throw new ConfigError(e?.path || '/', e?.message ?? 'invalid');
  }
  const ids = new Set<string>();
  cfg.cameras.forEach((c, i) => {
    if (!c.onvif === !c.rtsp) throw new ConfigError(`/cameras/${i}`, 'needs exactly one of onvif or rtsp');
    if (ids.has(c.id)) throw new ConfigError(`/cameras/${i}/id`, `duplicate camera id ${c.id}`);
    ids.add(c.id);
  });
  return deepFreeze(cfg);
}

/**
 * Layers: file (YAML or JSON) → environment (`SCHOOLCAM_CENTER_URL`, `SCHOOLCAM_GATEWAY_SECRET`)
 * → validate. The only module of the gateway that reads `process.env`.
 */
export function loadGatewayConfig(file: string, env: NodeJS.ProcessEnv = process.env): Readonly<GatewayConfig> {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, `cannot be read: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null) throw new ConfigError(file, 'must hold an object');
  const merged: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (env.SCHOOLCAM_CENTER_URL) merged.centerUrl = env.SCHOOLCAM_CENTER_URL;
  if (env.SCHOOLCAM_GATEWAY_SECRET) merged.secret = env.SCHOOLCAM_GATEWAY_SECRET;
  return resolveGatewayConfig(merged);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
