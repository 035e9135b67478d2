import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
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
    /** Control centre base URL, e.g. https://centre.example (the link uses wss://…/link). Plain http only to a loopback centre. */
    centerUrl: Type.String({ pattern: '^(https?|wss?)://' }),
    /** The gateway's secret, or (better) `secretFile`: written by `gateway enroll`, mode 0600. */
    secret: Type.Optional(Type.String({ minLength: 8 })),
    secretFile: Type.Optional(Type.String({ minLength: 1 })),
    /** PEM file of the CA (or self-signed certificate) the centre's TLS certificate is checked against. */
    centerCaFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Keep pulling a camera this long after its last viewer left. Default 10000 ms. */
    lingerMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 10_000 }),
    /** Keep WebRTC media on 127.0.0.1 (single-host demo). Default false. */
    loopbackOnly: Type.Boolean({ default: false }),
    logLevel: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
    cameras: Type.Array(CameraConfig, { maxItems: 512 }),
  },
  { additionalProperties: false },
);
/** After resolution `secret` is always set (read from `secretFile` when that was given). */
export type GatewayConfig = Static<typeof GatewayConfig> & { secret: string };
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
  if (!cfg.secret === !cfg.secretFile) throw new ConfigError('/secret', 'give exactly one of secret or secretFile');
  if (cfg.secretFile) cfg.secret = readSecretFile(cfg.secretFile);
  const ids = new Set<string>();
  cfg.cameras.forEach((c, i) => {
    if (!c.onvif === !c.rtsp) throw new ConfigError(`/cameras/${i}`, 'needs exactly one of onvif or rtsp');
    if (ids.has(c.id)) throw new ConfigError(`/cameras/${i}/id`, `duplicate camera id ${c.id}`);
    ids.add(c.id);
  });
  return deepFreeze(cfg as GatewayConfig);
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
  if (env.SCHOOLCAM_GATEWAY_SECRET) {
    merged.secret = env.SCHOOLCAM_GATEWAY_SECRET;
    delete merged.secretFile;
  }
  // Files named in the config are found next to it.
  for (const key of ['secretFile', 'centerCaFile'] as const) {
    if (typeof merged[key] === 'string') merged[key] = resolvePath(dirname(file), merged[key]);
  }
  return resolveGatewayConfig(merged);
}

/** Reads the secret `gateway enroll` wrote, refusing a file others may read (as ssh does with keys). */
function readSecretFile(file: string): string {
  let secret: string;
  try {
    if ((statSync(file).mode & 0o077) !== 0) throw new ConfigError('/secretFile', `${file} is readable by others: chmod 600 ${file}`);
    secret = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('/secretFile', `${file} cannot be read: ${(err as Error).message}`);
  }
  if (secret.length < 8) throw new ConfigError('/secretFile', `${file} holds no secret`);
  return secret;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
