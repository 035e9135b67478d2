import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { Cam } from 'onvif';

/**
 * The gateway's only door to the `onvif` npm client (agsh). That library is callback-based,
 * reports errors as free-form strings, may call a callback twice, throws from inside its own
 * callbacks on replies it does not expect, and buffers replies without a size limit. Everything
 * it does goes through {@link callCam}, which adds a deadline, a reply-size cap, single
 * settlement and a stable error code.
 */

/** Stable failure classes of an ONVIF call. */
export type OnvifErrorCode = 'ONVIF_UNREACHABLE' | 'ONVIF_AUTH' | 'ONVIF_BAD_REPLY' | 'ONVIF_TIMEOUT';

export class OnvifError extends Error {
  override readonly name = 'OnvifError';
  constructor(
    readonly code: OnvifErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface OnvifDeviceInfo {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
}

export interface OnvifStreamProfile {
  token: string;
  name: string;
  width: number;
  height: number;
  fps?: number;
  rtspUri: string;
}

export interface OnvifConnectOptions {
  /** device service address, e.g. `http://10.0.0.7/onvif/device_service` */
  xaddr: string;
  username: string;
  password: string;
  /** deadline of each ONVIF operation (connect counts as one), ms; default 5000 */
  timeoutMs?: number;
  /** bytes a single operation may receive before it is cut off; default 4 MiB */
  maxReplyBytes?: number;
}

/**
 * A connected ONVIF camera: device information and its H.264 profiles with RTSP URIs, resolved
 * once at connect. Operations on one camera run one at a time (embedded camera web servers cope
 * badly with concurrent SOAP requests).
 */
export class OnvifCamera {
  /** from GetDeviceInformation */
  readonly info: OnvifDeviceInfo;
  /** H.264 profiles with their RTSP URIs, largest first (the main stream) */
  readonly profiles: OnvifStreamProfile[];

  readonly #cam: Cam;
  readonly #limits: Limits;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(cam: Cam, limits: Limits, info: OnvifDeviceInfo, profiles: OnvifStreamProfile[]) {
    this.#cam = cam;
    this.#limits = limits;
    this.info = info;
    this.profiles = profiles;
  }

  /**
   * GetSystemDateAndTime (clock offset for the UsernameToken), GetServices (or GetCapabilities),
   * GetProfiles, GetDeviceInformation, then one GetStreamUri (RTP-Unicast over RTSP) per H.264
   * profile. Each step has its own `timeoutMs` deadline. Rejects with an {@link OnvifError}.
   */
  static async connect(opts: OnvifConnectOptions): Promise<OnvifCamera> {
    let url: URL;
    try {
      url = new URL(opts.xaddr);
    } catch {
      throw new OnvifError('ONVIF_UNREACHABLE', 'invalid xaddr');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OnvifError('ONVIF_UNREACHABLE', `unsupported xaddr scheme ${url.protocol}`);
    const secure = url.protocol === 'https:';
    const limits: Limits = {
      timeoutMs: opts.timeoutMs ?? 5000,
      maxReplyBytes: opts.maxReplyBytes ?? 4 * 1024 * 1024,
      secure,
      cancels: new Set(),
    };

    let cam: Cam;
    try {
      cam = new Cam({
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: url.pathname + url.search,
        username: opts.username,
        password: opts.password,
        useSecure: secure,
        // The lib's socket-idle timeout; our own deadline in callCam is the one that counts.
        timeout: limits.timeoutMs,
        autoconnect: false,
        // Cameras behind NAT or port forwarding advertise XAddrs we cannot reach: keep using the
        // host and port we were given.
        preserveAddress: true,
      });
    } catch (err) {
      throw classify('connect', err, undefined);
    }
    // Nothing of ours listens to these; an unhandled 'error' event would crash the process.
    cam.on('error', () => {});

    // The lib's own connect() chains these calls, but when one of its callbacks throws (profiles
    // whose SourceToken matches no video source: "Unrecognized configuration") it loses the final
    // callback. Driving the steps here keeps every one under its own deadline and error mapping.
    // GetSystemDateAndTime first: it sets the lib's timeShift, used in every UsernameToken.
    await callCam(cam, limits, 'GetSystemDateAndTime', (cb) => cam.getSystemDateAndTime(cb));
    try {
      await callCam(cam, limits, 'GetServices', (cb) => cam.getServices(true, cb));
    } catch (err) {
      // GetServices is optional before ONVIF 2.0; the lib falls back to GetCapabilities the same way.
      if (!(err instanceof OnvifError) || err.code === 'ONVIF_TIMEOUT' || err.code === 'ONVIF_UNREACHABLE') throw err;
      await callCam(cam, limits, 'GetCapabilities', (cb) => cam.getCapabilities(cb));
    }
    if (cam.uri?.media === undefined && !(cam.media2Support === true && cam.uri?.media2 !== undefined)) {
      throw new OnvifError('ONVIF_BAD_REPLY', 'camera advertises no media service');
    }
    try {
      await callCam(cam, limits, 'GetProfiles', (cb) => cam.getProfiles(cb));
    } catch (err) {
      // As the lib does for a D-Link DCS-8635LH: a broken Media2 falls back to Media1.
      if (cam.media2Support !== true || cam.uri?.media === undefined || !(err instanceof OnvifError) || err.code !== 'ONVIF_BAD_REPLY') throw err;
      cam.media2Support = false;
      await callCam(cam, limits, 'GetProfiles', (cb) => cam.getProfiles(cb));
    }
    const rawInfo = await callCam(cam, limits, 'GetDeviceInformation', (cb) => cam.getDeviceInformation(cb));
    const info: OnvifDeviceInfo = {
      manufacturer: str(get(rawInfo, 'manufacturer')) ?? '',
      model: str(get(rawInfo, 'model')) ?? '',
      firmware: str(get(rawInfo, 'firmwareVersion')) ?? '',
      serial: str(get(rawInfo, 'serialNumber')) ?? '',
      hardwareId: str(get(rawInfo, 'hardwareId')) ?? '',
    };

    const candidates = (Array.isArray(cam.profiles) ? cam.profiles : []).map(readProfile).filter((p) => p !== undefined);
    const profiles: OnvifStreamProfile[] = [];
    for (const p of candidates) {
      let reply: unknown;
      try {
        reply = await callCam(cam, limits, 'GetStreamUri', (cb) => cam.getStreamUri({ protocol: 'RTSP', stream: 'RTP-Unicast', profileToken: p.token }, cb));
      } catch (err) {
        // One profile the camera refuses to stream (a fault) is skipped; anything else is fatal.
        if (err instanceof OnvifError && err.code === 'ONVIF_BAD_REPLY') continue;
        throw err;
      }
      const uri = str(get(reply, 'uri'));
      if (uri !== undefined && /^rtsps?:\/\//i.test(uri)) profiles.push({ ...p, rtspUri: uri });
    }
    if (profiles.length === 0) throw new OnvifError('ONVIF_BAD_REPLY', 'camera has no H.264 profile with an RTSP URI');
    // Largest first; the sort is stable, so the camera's order breaks ties.
    profiles.sort((a, b) => b.width * b.height - a.width * a.height);
    return new OnvifCamera(cam, limits, info, profiles);
  }

  /** Ask the camera for an IDR on this profile (ONVIF Media Service Specification, SetSynchronizationPoint). */
  setSynchronizationPoint(profileToken: string): Promise<void> {
    return this.#serial(async () => {
      await callCam(this.#cam, this.#limits, 'SetSynchronizationPoint', (cb) => this.#cam.setSynchronizationPoint({ profileToken }, cb));
    });
  }

  /** Abort any operation in flight (it rejects with ONVIF_UNREACHABLE) and refuse new ones. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const cancel of [...this.#limits.cancels]) cancel();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new OnvifError('ONVIF_UNREACHABLE', 'camera closed'));
    const run = this.#queue.then(() => (this.#closed ? Promise.reject(new OnvifError('ONVIF_UNREACHABLE', 'camera closed')) : fn()));
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

interface Limits {
  timeoutMs: number;
  maxReplyBytes: number;
  secure: boolean;
  /** cancel functions of operations in flight */
  cancels: Set<() => void>;
}

type LibCallback = (err: unknown, data?: unknown) => void;

/**
 * Run one library call: settle exactly once, within `limits.timeoutMs`, on a fresh agent whose
 * sockets are destroyed when the call settles (so a dribbling or silent camera cannot keep one)
 * and which cuts the connection once `maxReplyBytes` have arrived. The callback handed to the
 * library never throws: a throw inside it would re-enter the library's own catch blocks and
 * call back again, or escape as an uncaught exception.
 */
function callCam(cam: Cam, limits: Limits, what: string, start: (cb: LibCallback) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let tooLarge = false;
    let lastStatus: number | undefined;
    const agent = boundedAgent(limits, () => {
      tooLarge = true;
    });
    const onRaw = (_xml: unknown, status: unknown): void => {
      if (typeof status === 'number') lastStatus = status;
    };
    const finish = (err: OnvifError | undefined, data?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.cancels.delete(cancel);
      cam.off('rawResponse', onRaw);
      agent.destroy();
      if (err === undefined) resolve(data);
      else reject(err);
    };
    const cancel = (): void => finish(new OnvifError('ONVIF_UNREACHABLE', `${what}: camera closed`));
    const timer = setTimeout(() => finish(new OnvifError('ONVIF_TIMEOUT', `${what}: no reply within ${limits.timeoutMs} ms`)), limits.timeoutMs);
    limits.cancels.add(cancel);
    cam.on('rawResponse', onRaw);
    cam.agent = agent;
    try {
      start((err, data) => {
        if (err === null || err === undefined || err === false) return finish(undefined, data);
        if (tooLarge) return finish(new OnvifError('ONVIF_BAD_REPLY', `${what}: reply larger than ${limits.maxReplyBytes} bytes`));
        finish(classify(what, err, lastStatus));
      });
    } catch (err) {
      finish(classify(what, err, lastStatus));
    }
  });
}

function boundedAgent(limits: Limits, onTooLarge: () => void): http.Agent {
  const agent = limits.secure ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
  const create = agent.createConnection.bind(agent) as (options: http.ClientRequestArgs, cb?: (err: Error | null, s: Duplex) => void) => Duplex | null | undefined;
  let received = 0;
  agent.createConnection = (options: http.ClientRequestArgs, cb?: (err: Error | null, s: Duplex) => void) => {
    const socket = create(options, cb);
    socket?.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxReplyBytes) {
        onTooLarge();
        socket.destroy(new Error('reply too large'));
      }
    });
    return socket;
  };
  return agent;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'EADDRNOTAVAIL']);

/** Map whatever the library produced (Error, string, errno error, SOAP fault text) to a code. */
function classify(what: string, err: unknown, httpStatus: number | undefined): OnvifError {
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : 'unknown error');
  const errno = (e as NodeJS.ErrnoException).code;
  const message = `${what}: ${printable(e.message)}`;
  let code: OnvifErrorCode;
  if (e.message === 'Network timeout' || errno === 'ETIMEDOUT') code = 'ONVIF_TIMEOUT';
  else if ((errno !== undefined && UNREACHABLE_CODES.has(errno)) || /socket hang up/i.test(e.message)) code = 'ONVIF_UNREACHABLE';
  // ONVIF Core generic faults: ter:NotAuthorized ("Sender not Authorized"); HTTP Digest cameras answer 401.
  else if (httpStatus === 401 || httpStatus === 403 || /not ?authori[sz]ed|unauthori[sz]ed|authentication failed/i.test(e.message)) code = 'ONVIF_AUTH';
  else code = 'ONVIF_BAD_REPLY';
  return new OnvifError(code, message, { cause: e });
}

/** Camera-supplied text goes into logs: keep it short and on one line. */
function printable(s: string): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** Profile fields as the library's `linerase` leaves them (numbers may be numbers, strings may be numbers). */
function readProfile(p: unknown): Omit<OnvifStreamProfile, 'rtspUri'> | undefined {
  const token = str(get(p, '$', 'token'));
  const vec = get(p, 'videoEncoderConfiguration');
  if (token === undefined || vec === undefined) return undefined;
  // The gateway's pipeline is H.264 only (DESIGN: depacketize H.264, re-packetize for WebRTC).
  if (str(get(vec, 'encoding'))?.toUpperCase() !== 'H264') return undefined;
  const width = num(get(vec, 'resolution', 'width'));
  const height = num(get(vec, 'resolution', 'height'));
  if (width === undefined || height === undefined) return undefined;
  const fps = num(get(vec, 'rateControl', 'frameRateLimit'));
  return { token, name: str(get(p, 'name')) ?? token, width, height, ...(fps === undefined ? {} : { fps }) };
}

function get(obj: unknown, ...keys: string[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
