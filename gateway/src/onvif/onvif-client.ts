import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { Cam } from 'onvif';
import { CodedError } from '../errors';

/**
 * The gateway's only door to the `onvif` npm client (agsh). That library is callback-based,
 * reports errors as free-form strings, may call a callback twice, throws from inside its own
 * callbacks on replies it does not expect, and buffers replies without a size limit. Everything
 * it does goes through {@link callCam}, which adds a deadline, a reply-size cap, single
 * settlement and a stable error code.
 *
 * Hardening on top of the library:
 * - The camera's clock is read (GetSystemDateAndTime, PRE_AUTH) before any authenticated call,
 *   and read again when an authenticated call is refused: the library's WS-UsernameToken
 *   `Created` is our clock plus that offset, so a camera whose clock reset at a reboot (Home
 *   Assistant core #121952, agsh/onvif #249) is not locked out.
 * - A camera still refusing after the clock is re-read gets plain HTTP Digest without the
 *   WS-Security header: cameras in digest-only mode answer the header with a fault instead of a
 *   401 challenge (Hikvision, agsh/onvif #294).
 * - Stream URIs the camera returns are pinned to the device's host (and stripped of userinfo):
 *   the gateway sends a camera's credentials nowhere but to that camera (a camera behind NAT, or
 *   a hostile one, can name any host). URIs with whitespace or control characters are refused
 *   (go2rtc e2c7d067).
 */

/**
 * Stable failure classes of an ONVIF call: no answer (`UNREACHABLE`, `TIMEOUT`), credentials
 * refused (`AUTH`), a reply we cannot use (`BAD_REPLY`), or a camera that works but offers nothing
 * the gateway can relay (`UNSUPPORTED`: no media service, no H.264 profile).
 */
export type OnvifErrorCode = 'ONVIF_UNREACHABLE' | 'ONVIF_AUTH' | 'ONVIF_BAD_REPLY' | 'ONVIF_TIMEOUT' | 'ONVIF_UNSUPPORTED';

export class OnvifError extends CodedError<OnvifErrorCode> {
  override readonly name = 'OnvifError';
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
  /** `H264`, `H265`, `JPEG`… as the camera names its encoder */
  encoding: string;
  /** GOP length in frames (H.264 GovLength), when the camera reports it */
  govLength?: number;
  /** RTSP URI, host pinned to the device, without userinfo; undefined when the camera gave none we accept */
  rtspUri?: string;
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

/** One notification from a pull point, as the gateway cares about it. */
export interface OnvifNotification {
  kind: 'motion' | 'tamper' | 'other';
  /** the topic without its namespace prefix, e.g. `VideoSource/MotionAlarm` */
  topic: string;
  /** the State/IsMotion/IsTamper item; undefined when the message has none */
  active: boolean | undefined;
  /** ONVIF `PropertyOperation="Initialized"`: the state at subscription time, not a change */
  initialized: boolean;
  /** the message's UtcTime attribute, as the camera wrote it */
  utcTime: string | undefined;
}

/** How the device and its clock were reached; shared by a camera and its pull points. */
interface Session {
  cam: Cam;
  limits: Limits;
  /** the device service host, to which stream URIs are pinned */
  host: string;
  port: number;
  secure: boolean;
  /** camera clock − our clock, ms, as last measured */
  clockOffsetMs: number;
}

/**
 * A connected ONVIF camera: device information and its video profiles (H.264 first, largest
 * first) with RTSP URIs, resolved once at connect. Operations on one camera run one at a time
 * (embedded camera web servers cope badly with concurrent SOAP requests).
 */
export class OnvifCamera {
  /** from GetDeviceInformation */
  readonly info: OnvifDeviceInfo;
  /** every video profile; H.264 ones with an RTSP URI first, then by size, largest first (the main stream) */
  readonly allProfiles: OnvifStreamProfile[];

  readonly #s: Session;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(session: Session, info: OnvifDeviceInfo, profiles: OnvifStreamProfile[]) {
    this.#s = session;
    this.info = info;
    this.allProfiles = profiles;
  }

  /** H.264 profiles with an RTSP URI, largest first: what the gateway can relay. */
  get profiles(): (OnvifStreamProfile & { rtspUri: string })[] {
    return this.allProfiles.filter((p): p is OnvifStreamProfile & { rtspUri: string } => p.encoding.toUpperCase() === 'H264' && p.rtspUri !== undefined);
  }

  /** camera clock − our clock, ms, from the last GetSystemDateAndTime */
  get clockOffsetMs(): number {
    return this.#s.clockOffsetMs;
  }

  /** `ws-security` (UsernameToken, with HTTP Digest when challenged) or `http-digest` (Digest only) */
  get authScheme(): 'ws-security' | 'http-digest' {
    return this.#s.cam.useWSSecurity ? 'ws-security' : 'http-digest';
  }

  /**
   * GetSystemDateAndTime (clock offset for the UsernameToken), GetServices (or GetCapabilities),
   * GetProfiles, GetDeviceInformation, then one GetStreamUri (RTP-Unicast over RTSP) per profile.
   * Each step has its own `timeoutMs` deadline. Rejects with an {@link OnvifError}; with
   * `ONVIF_BAD_REPLY` when the camera has no H.264 profile, unless `anyCodec` (for `check`,
   * which reports what the camera has).
   */
  static async connect(opts: OnvifConnectOptions & { anyCodec?: boolean }): Promise<OnvifCamera> {
    const s = await openSession(opts);
    try {
      await discoverServices(s);
      if (s.cam.uri?.media === undefined && !(s.cam.media2Support === true && s.cam.uri?.media2 !== undefined)) {
        throw new OnvifError('ONVIF_UNSUPPORTED', 'camera advertises no media service');
      }
      try {
        await authed(s, 'GetProfiles', (cb) => s.cam.getProfiles(cb));
      } catch (err) {
        // As the lib does for a D-Link DCS-8635LH: a broken Media2 falls back to Media1.
        if (s.cam.media2Support !== true || s.cam.uri?.media === undefined || !(err instanceof OnvifError) || err.code !== 'ONVIF_BAD_REPLY') throw err;
        s.cam.media2Support = false;
        await authed(s, 'GetProfiles', (cb) => s.cam.getProfiles(cb));
      }
      const rawInfo = await authed(s, 'GetDeviceInformation', (cb) => s.cam.getDeviceInformation(cb));
      const info: OnvifDeviceInfo = {
        manufacturer: str(get(rawInfo, 'manufacturer')) ?? '',
        model: str(get(rawInfo, 'model')) ?? '',
        firmware: str(get(rawInfo, 'firmwareVersion')) ?? '',
        serial: str(get(rawInfo, 'serialNumber')) ?? '',
        hardwareId: str(get(rawInfo, 'hardwareId')) ?? '',
      };
      const candidates = (Array.isArray(s.cam.profiles) ? s.cam.profiles : []).map(readProfile).filter((p) => p !== undefined);
      const profiles: OnvifStreamProfile[] = [];
      for (const p of candidates) {
        let reply: unknown;
        try {
          reply = await authed(s, 'GetStreamUri', (cb) => s.cam.getStreamUri({ protocol: 'RTSP', stream: 'RTP-Unicast', profileToken: p.token }, cb));
        } catch (err) {
          // One profile the camera refuses to stream (a fault) is listed without a URI; anything else is fatal.
          if (err instanceof OnvifError && err.code === 'ONVIF_BAD_REPLY') {
            profiles.push(p);
            continue;
          }
          throw err;
        }
        const uri = pinStreamUri(str(get(reply, 'uri')), s.host);
        profiles.push(uri === undefined ? p : { ...p, rtspUri: uri });
      }
      // H.264 with a URI first, then largest first; the sort is stable, so the camera's order breaks ties.
      const relayable = (p: OnvifStreamProfile): number => (p.encoding.toUpperCase() === 'H264' && p.rtspUri !== undefined ? 0 : 1);
      profiles.sort((a, b) => relayable(a) - relayable(b) || b.width * b.height - a.width * a.height);
      const camera = new OnvifCamera(s, info, profiles);
      if (!opts.anyCodec && camera.profiles.length === 0) throw new OnvifError('ONVIF_UNSUPPORTED', 'camera has no H.264 profile with an RTSP URI');
      return camera;
    } catch (err) {
      closeSession(s);
      throw err;
    }
  }

  /** Ask the camera for an IDR on this profile (ONVIF Media Service Specification, SetSynchronizationPoint). */
  setSynchronizationPoint(profileToken: string): Promise<void> {
    return this.#serial(async () => {
      await authed(this.#s, 'SetSynchronizationPoint', (cb) => this.#s.cam.setSynchronizationPoint({ profileToken }, cb));
    });
  }

  /**
   * The profile's snapshot URI (ONVIF Media GetSnapshotUri), pinned to the device's host and stripped
   * of userinfo like stream URIs, so fetching it sends the camera's credentials to that camera only.
   * Rejects with `ONVIF_UNSUPPORTED` when the camera offers no usable http(s) snapshot URI.
   */
  snapshotUri(profileToken: string): Promise<string> {
    return this.#serial(async () => {
      const reply = await authed(this.#s, 'GetSnapshotUri', (cb) => this.#s.cam.getSnapshotUri({ profileToken }, cb));
      const uri = pinHttpUri(str(get(reply, 'uri')), this.#s.host);
      if (uri === undefined) throw new OnvifError('ONVIF_UNSUPPORTED', 'camera gives no usable snapshot URI');
      return uri;
    });
  }

  /** Abort any operation in flight (it rejects with ONVIF_UNREACHABLE) and refuse new ones. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSession(this.#s);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new OnvifError('ONVIF_UNREACHABLE', 'camera closed'));
    const run = this.#queue.then(() => (this.#closed ? Promise.reject(new OnvifError('ONVIF_UNREACHABLE', 'camera closed')) : fn()));
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** Longest wait of a PullMessages the library sends (it asks for `PT1M`), plus slack for the reply. */
const PULL_DEADLINE_MS = 75_000;

/**
 * One ONVIF pull-point subscription (ONVIF Core §9.1), on its own connection to the camera so a
 * long-poll never holds up other operations. `pull()` long-polls (the camera answers as soon as
 * an event is queued, or after a minute with nothing); `renew()` extends it. A pull or renew
 * that fails with `ONVIF_BAD_REPLY` means the subscription is gone (a camera reboot, or
 * `wsrf-rw:ResourceUnknownFault`): create a new one.
 */
export class OnvifPullPoint {
  readonly #s: Session;
  #expiresAt: number;
  #closed = false;

  private constructor(s: Session, expiresAt: number) {
    this.#s = s;
    this.#expiresAt = expiresAt;
  }

  /** Our clock (ms) at which the camera will drop the subscription unless renewed. */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  get clockOffsetMs(): number {
    return this.#s.clockOffsetMs;
  }

  static async create(opts: OnvifConnectOptions): Promise<OnvifPullPoint> {
    const s = await openSession(opts);
    try {
      await discoverServices(s);
      if (s.cam.uri?.events === undefined) throw new OnvifError('ONVIF_UNSUPPORTED', 'camera advertises no events service');
      const reply = await authed(s, 'CreatePullPointSubscription', (cb) => s.cam.createPullPointSubscription(cb));
      return new OnvifPullPoint(s, expiry(reply, s.clockOffsetMs));
    } catch (err) {
      closeSession(s);
      throw err;
    }
  }

  /** Waits for notifications (up to about a minute); resolves with those that came, maybe none. */
  async pull(): Promise<OnvifNotification[]> {
    if (this.#closed) throw new OnvifError('ONVIF_UNREACHABLE', 'pull point closed');
    const reply = await authed(this.#s, 'PullMessages', (cb) => this.#s.cam.pullMessages({ messageLimit: 50 }, cb), PULL_DEADLINE_MS);
    const exp = get(reply, 'terminationTime');
    if (exp !== undefined) this.#expiresAt = expiry(reply, this.#s.clockOffsetMs);
    return readPullResponse(reply);
  }

  /** Extends the subscription (the library asks for two more minutes). */
  async renew(): Promise<void> {
    if (this.#closed) throw new OnvifError('ONVIF_UNREACHABLE', 'pull point closed');
    const reply = await authed(this.#s, 'Renew', (cb) => this.#s.cam.renew({}, cb));
    this.#expiresAt = expiry(reply, this.#s.clockOffsetMs);
  }

  /** Unsubscribes (best effort, bounded by the operation deadline), aborting a pull in flight. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // End the long-poll first: the camera must not keep one socket per forgotten pull point.
    for (const cancel of [...this.#s.limits.cancels]) cancel();
    try {
      await callCam(this.#s, 'Unsubscribe', (cb) => this.#s.cam.unsubscribe(cb));
    } catch {
      // Gone already, or unreachable: its termination time ends it on the camera anyway.
    }
    closeSession(this.#s);
  }
}

// ---- sessions --------------------------------------------------------------------------------

async function openSession(opts: OnvifConnectOptions): Promise<Session> {
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
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  let cam: Cam;
  try {
    cam = new Cam({
      hostname: host,
      port,
      path: url.pathname + url.search,
      username: opts.username,
      password: opts.password,
      useSecure: secure,
      // The lib's socket-idle timeout; our own deadline in callCam is the one that counts.
      timeout: limits.timeoutMs,
      autoconnect: false,
      // Cameras behind NAT or port forwarding advertise XAddrs we cannot reach: keep using the
      // host and port we were given. This also pins the events service and pull points.
      preserveAddress: true,
    });
  } catch (err) {
    throw classify('connect', err, undefined);
  }
  // Nothing of ours listens to these; an unhandled 'error' event would crash the process.
  cam.on('error', () => {});
  const s: Session = { cam, limits, host, port, secure, clockOffsetMs: 0 };
  try {
    await syncClock(s);
  } catch (err) {
    closeSession(s);
    throw err;
  }
  return s;
}

/**
 * GetSystemDateAndTime (PRE_AUTH, ONVIF Core §5.12): sets the library's `timeShift`, which every
 * UsernameToken's `Created` adds to our clock, and our copy of the offset.
 */
async function syncClock(s: Session): Promise<void> {
  s.cam.timeShift = undefined;
  const time = await callCam(s, 'GetSystemDateAndTime', (cb) => s.cam.getSystemDateAndTime(cb));
  if (time instanceof Date && Number.isFinite(time.getTime())) s.clockOffsetMs = time.getTime() - Date.now();
}

/** GetServices, or GetCapabilities on cameras older than ONVIF 2.0 (the lib falls back the same way). */
async function discoverServices(s: Session): Promise<void> {
  try {
    await authed(s, 'GetServices', (cb) => s.cam.getServices(true, cb));
  } catch (err) {
    if (!(err instanceof OnvifError) || err.code === 'ONVIF_TIMEOUT' || err.code === 'ONVIF_UNREACHABLE') throw err;
    await authed(s, 'GetCapabilities', (cb) => s.cam.getCapabilities(cb));
  }
}

/**
 * An authenticated call. Refused once: re-read the camera clock and try again (a rebooted camera
 * may have reset it). Refused again with WS-Security: try HTTP Digest alone, and keep to it.
 */
async function authed(s: Session, what: string, start: (cb: LibCallback) => void, deadlineMs?: number): Promise<unknown> {
  try {
    return await callCam(s, what, start, deadlineMs);
  } catch (err) {
    if (!(err instanceof OnvifError) || err.code !== 'ONVIF_AUTH') throw err;
  }
  await syncClock(s);
  try {
    return await callCam(s, what, start, deadlineMs);
  } catch (err) {
    if (!(err instanceof OnvifError) || err.code !== 'ONVIF_AUTH' || !s.cam.useWSSecurity) throw err;
  }
  s.cam.useWSSecurity = false;
  try {
    return await callCam(s, what, start, deadlineMs);
  } catch (err) {
    s.cam.useWSSecurity = true;
    throw err;
  }
}

function closeSession(s: Session): void {
  for (const cancel of [...s.limits.cancels]) cancel();
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
 * Run one library call: settle exactly once, within the deadline, on a fresh agent whose sockets
 * are destroyed when the call settles (so a dribbling or silent camera cannot keep one) and which
 * cuts the connection once `maxReplyBytes` have arrived. The callback handed to the library never
 * throws: a throw inside it would re-enter the library's own catch blocks and call back again, or
 * escape as an uncaught exception.
 */
function callCam(s: Session, what: string, start: (cb: LibCallback) => void, deadlineMs = s.limits.timeoutMs): Promise<unknown> {
  const { cam, limits } = s;
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
    const timer = setTimeout(() => finish(new OnvifError('ONVIF_TIMEOUT', `${what}: no reply within ${deadlineMs} ms`)), deadlineMs);
    limits.cancels.add(cancel);
    cam.on('rawResponse', onRaw);
    cam.agent = agent;
    // Pull-point operations go to the subscription's own address: the library passes that parsed
    // URL object to http.request as the options, so the agent (and its size cap) must sit on it.
    const subscriptionAddress: unknown = get(cam.events, 'subscription', 'subscriptionReference', 'address');
    if (typeof subscriptionAddress === 'object' && subscriptionAddress !== null) (subscriptionAddress as { agent?: http.Agent }).agent = agent;
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

// ---- reading what the library parsed ---------------------------------------------------------

/**
 * The stream URI as the gateway will use it: `rtsp://` only, no whitespace or control characters,
 * userinfo removed, and the host replaced by the device's own (port and path kept). Undefined when
 * the camera's answer is not usable.
 */
export function pinStreamUri(uri: string | undefined, deviceHost: string): string | undefined {
  return pinUri(uri, deviceHost, ['rtsp:']);
}

/** A snapshot URI as the gateway will fetch it: `http(s)://` only, otherwise pinned like {@link pinStreamUri}. */
export function pinHttpUri(uri: string | undefined, deviceHost: string): string | undefined {
  return pinUri(uri, deviceHost, ['http:', 'https:']);
}

function pinUri(uri: string | undefined, deviceHost: string, protocols: readonly string[]): string | undefined {
  if (uri === undefined || uri.length > 2048 || /[\s\u0000-\u001f\u007f]/.test(uri)) return undefined;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return undefined;
  }
  if (!protocols.includes(u.protocol)) return undefined;
  u.username = '';
  u.password = '';
  u.hostname = deviceHost.includes(':') ? `[${deviceHost}]` : deviceHost;
  return u.toString();
}

/** Profile fields as the library's `linerase` leaves them (numbers may be numbers, strings may be numbers). */
export function readProfile(p: unknown): Omit<OnvifStreamProfile, 'rtspUri'> | undefined {
  const token = str(get(p, '$', 'token'));
  const vec = get(p, 'videoEncoderConfiguration');
  if (token === undefined || vec === undefined) return undefined;
  const width = num(get(vec, 'resolution', 'width'));
  const height = num(get(vec, 'resolution', 'height'));
  if (width === undefined || height === undefined || width > 16384 || height > 16384) return undefined;
  const fps = num(get(vec, 'rateControl', 'frameRateLimit'));
  const encoding = (str(get(vec, 'encoding')) ?? 'unknown').slice(0, 32);
  const govLength = num(get(vec, 'H264', 'govLength'));
  return {
    token: token.slice(0, 128),
    name: (str(get(p, 'name')) ?? token).slice(0, 200),
    width: Math.round(width),
    height: Math.round(height),
    encoding,
    ...(fps === undefined ? {} : { fps }),
    ...(govLength === undefined ? {} : { govLength }),
  };
}

/**
 * The notifications of a PullMessagesResponse (or of its body, as the library hands it over):
 * motion from `VideoSource/MotionAlarm` (State) or `RuleEngine/CellMotionDetector/Motion`
 * (IsMotion), tamper from `VideoSource/GlobalSceneChange/…` or `…/Tamper…` (State/IsTamper).
 * Anything malformed is skipped, never thrown.
 */
export function readPullResponse(reply: unknown): OnvifNotification[] {
  const body = get(reply, 'pullMessagesResponse') ?? reply;
  const out: OnvifNotification[] = [];
  for (const m of asArray(get(body, 'notificationMessage')).slice(0, 1000)) {
    const rawTopic = str(get(m, 'topic', '_')) ?? str(get(m, 'topic'));
    if (rawTopic === undefined) continue;
    const topic = rawTopic
      .trim()
      .split('/')
      .map((part) => part.replace(/^[^:]*:/, ''))
      .join('/')
      .slice(0, 256);
    const message = get(m, 'message', 'message') ?? get(m, 'message');
    const attrs = get(message, '$');
    let active: boolean | undefined;
    for (const item of asArray(get(message, 'data', 'simpleItem'))) {
      const name = str(get(item, '$', 'Name'));
      const value = get(item, '$', 'Value');
      if (name === undefined || !/^(State|IsMotion|IsTamper|Value)$/i.test(name)) continue;
      if (value === true || value === 'true' || value === 1 || value === '1') active = true;
      else if (value === false || value === 'false' || value === 0 || value === '0') active = false;
    }
    const utc = get(attrs, 'UtcTime');
    out.push({
      kind: /MotionAlarm|MotionDetector|\/Motion$/i.test(topic) ? 'motion' : /SceneChange|Tamper/i.test(topic) ? 'tamper' : 'other',
      topic,
      active,
      initialized: str(get(attrs, 'PropertyOperation')) === 'Initialized',
      utcTime: utc instanceof Date && Number.isFinite(utc.getTime()) ? utc.toISOString() : str(utc)?.slice(0, 64),
    });
  }
  return out;
}

/**
 * Our clock at which a subscription ends: TerminationTime − CurrentTime (both the camera's clock)
 * from now, else TerminationTime moved by the measured clock offset; kept between 10 s and a day.
 */
function expiry(reply: unknown, clockOffsetMs: number): number {
  const body = get(reply, 'pullMessagesResponse') ?? get(reply, 'renewResponse') ?? reply;
  const time = (v: unknown): number => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : NaN);
  const end = time(get(body, 'terminationTime'));
  const current = time(get(body, 'currentTime'));
  const now = Date.now();
  if (!Number.isFinite(end)) return now + 60_000;
  const at = Number.isFinite(current) ? now + (end - current) : end - clockOffsetMs;
  return Math.min(Math.max(at, now + 10_000), now + 86_400_000);
}

function asArray(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
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
