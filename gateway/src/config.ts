import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CameraRegistration } from '@schoolcam/protocol/link/link-messages';

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });

/**
 * One camera: `onvif` (stream resolved through GetProfiles + GetStreamUri; key frames on demand via
 * SetSynchronizationPoint; motion and tamper events) or a plain `rtsp` URL; `transport` (`tcp`
 * default, `udp` with fallback to TCP); `allowBasicAuth` (default false: a camera offering only RTSP
 * Basic auth is refused rather than sent the password in the clear). The same shape the centre
 * registers cameras with over the link.
 */
export const CameraConfig = CameraRegistration;
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
    /**
     * Where the gateway keeps its SQLite file (`gateway-<id>.db`: camera registry, event outbox)
     * and the key its camera passwords are encrypted with (`gateway-<id>.key`, mode 0600).
     * Relative paths are relative to the config file. Default `data`.
     */
    dataDir: Type.String({ minLength: 1, default: 'data' }),
    /** Keep pulling a camera this long after its last viewer left. Default 10000 ms. */
    lingerMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 10_000 }),
    /** Keep WebRTC media on 127.0.0.1 (single-host demo). Default false. */
    loopbackOnly: Type.Boolean({ default: false }),
    /**
     * UDP port directed discovery probes go to. Default 3702 (WS-Discovery's); a lab or the
     * single-host demo, whose simulated cameras answer on a port of their own, sets it.
     */
    discoveryPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
    logLevel: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info' }),
    /**
     * Cameras seeded into the registry at every start (they win over an entry of the same id made
     * with `cameras add`; one removed here is removed from the registry). Cameras registered with
     * the CLI or by the centre live in the registry only.
     */
    cameras: Type.Array(CameraConfig, { maxItems: 512, default: [] }),
  },
  { additionalProperties: false },
);
/** After resolution `secret` is always set (read from `secretFile` when that was given). */
export type GatewayConfig = Static<typeof GatewayConfig> & { secret: string };
export type GatewayConfigInput = Omit<GatewayConfig, 'lingerMs' | 'loopbackOnly' | 'logLevel' | 'dataDir' | 'cameras'> & Partial<GatewayConfig>;

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

/** The cross-field rules of one camera entry (the schema checks each field). Throws ConfigError. */
export function checkCameraConfig(c: CameraConfig, path: string): void {
  if (!c.onvif === !c.rtsp) throw new ConfigError(path, 'needs exactly one of onvif or rtsp');
}

/**
 * Applies defaults, validates (unknown keys rejected), checks cross-field rules and freezes.
 * A relative `dataDir` is resolved against `baseDir` (the config file's folder; default the
 * working directory).
 */
export function resolveGatewayConfig(input: unknown, baseDir = process.cwd()): Readonly<GatewayConfig> {
  const cfg: unknown = { dataDir: 'data', lingerMs: 10_000, loopbackOnly: false, logLevel: 'info', cameras: [], ...(input as object) };
  if (!checker.Check(cfg)) {
    const e = checker.Errors(cfg).First();
    throw new ConfigError(e?.path || '/', e?.message ?? 'invalid');
  }
  if (!cfg.secret === !cfg.secretFile) throw new ConfigError('/secret', 'give exactly one of secret or secretFile');
  if (cfg.secretFile) cfg.secret = readSecretFile(cfg.secretFile);
  const ids = new Set<string>();
  cfg.cameras.forEach((c, i) => {
    checkCameraConfig(c, `/cameras/${i}`);
    if (ids.has(c.id)) throw new ConfigError(`/cameras/${i}/id`, `duplicate camera id ${c.id}`);
    ids.add(c.id);
  });
  cfg.dataDir = isAbsolute(cfg.dataDir) ? cfg.dataDir : resolve(baseDir, cfg.dataDir);
  return deepFreeze(cfg as GatewayConfig);
}

/**
 * Layers: defaults → file (YAML or JSON) → environment (`SCHOOLCAM_CENTER_URL`,
 * `SCHOOLCAM_GATEWAY_SECRET`, `SCHOOLCAM_GATEWAY_DATA_DIR`) → validate. The only module of the
 * gateway that reads `process.env`.
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
  if (env.SCHOOLCAM_GATEWAY_DATA_DIR) merged.dataDir = env.SCHOOLCAM_GATEWAY_DATA_DIR;
  // Files named in the config are found next to it.
  for (const key of ['secretFile', 'centerCaFile'] as const) {
    if (typeof merged[key] === 'string') merged[key] = resolve(dirname(file), merged[key]);
  }
  return resolveGatewayConfig(merged, dirname(resolve(file)));
}

/** The gateway's SQLite file and its key file, from the config. */
export function storagePaths(cfg: Pick<GatewayConfig, 'dataDir' | 'gatewayId'>): { database: string; keyFile: string } {
  return { database: join(cfg.dataDir, `gateway-${cfg.gatewayId}.db`), keyFile: join(cfg.dataDir, `gateway-${cfg.gatewayId}.key`) };
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
