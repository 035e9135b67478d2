import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { RtspServer } from '@schoolcam/protocol/rtsp/rtsp-server';
import { OnvifServer } from '../onvif/onvif-server';
import type { OnvifCameraModel, OnvifProfileInfo } from '../onvif/onvif-camera-model';
import { SnapshotServer } from '../snapshot/snapshot-server';
import type { EventName, EventParamsOf, FaultName, FaultParamsOf } from '../control/fault-params';
import { VideoStream } from './video-stream';

export interface SimCameraOptions {
  id: string;
  name: string;
  school: string;
  schoolName?: string;
  width?: number;
  height?: number;
  fps?: number;
  gopSeconds?: number;
  /** Average bitrate of the main profile, kbit/s; the sub profile gets a quarter. Default 0 (the bare picture). */
  bitrateKbps?: number;
  username?: string;
  /** Random when absent. */
  password?: string;
  ptz?: boolean;
  host?: string;
  /** Base URL of the fleet's control API; the camera's is `${controlBase}/cameras/${id}`. */
  controlBase?: string;
  logger: Logger;
}

/** What `npm run sim -- --json` prints for each camera. */
export interface SimCameraInfo {
  id: string;
  name: string;
  school: string;
  onvif: string;
  rtsp: string;
  snapshot: string;
  username: string;
  password: string;
  control: string;
}

/** Notified when the camera goes down and comes back (WS-Discovery Bye/Hello). */
export interface PresenceListener {
  bye(cameraId: string): void;
  hello(cameraId: string): void;
}

type AuthFault = FaultParamsOf<'auth'>['mode'];

/** The clock a camera falls back to when its RTC battery is flat: 2000-01-01T00:00:00Z. */
const FACTORY_CLOCK_MS = Date.UTC(2000, 0, 1);

/**
 * A simulated ONVIF camera: main and sub profile (one shared encoder each), its own RTSP
 * server (Digest auth, TCP and UDP), ONVIF SOAP server, JPEG snapshots, events, and the
 * faults real cameras show, switched through the control API.
 */
export class SimCamera {
  private closed = false;
  private readonly faultTimers = new Map<string, NodeJS.Timeout>();
  private rebooting = false;
  private auth: AuthFault = 'normal';
  private malformed = { rtsp: false, soap: false };
  private discovery = { zeroXAddrs: false, duplicates: false };
  private events = { motion: false, tamper: false };
  private presence: PresenceListener | undefined;

  private constructor(
    readonly opts: Required<Omit<SimCameraOptions, 'logger' | 'password'>> & { password: string },
    readonly main: VideoStream,
    readonly sub: VideoStream,
    readonly model: OnvifCameraModel,
    readonly rtsp: RtspServer,
    readonly onvif: OnvifServer,
    readonly snapshot: SnapshotServer,
    private readonly log: Logger,
  ) {}

  static async create(o: SimCameraOptions): Promise<SimCamera> {
    const opts = {
      id: o.id,
      name: o.name,
      school: o.school,
      schoolName: o.schoolName ?? o.school,
      width: o.width ?? 640,
      height: o.height ?? 360,
      fps: o.fps ?? 15,
      gopSeconds: o.gopSeconds ?? 2,
      bitrateKbps: o.bitrateKbps ?? 0,
      username: o.username ?? 'admin',
      password: o.password ?? randomBytes(9).toString('base64url'),
      ptz: o.ptz ?? false,
      host: o.host ?? '127.0.0.1',
      controlBase: o.controlBase ?? '',
    };
    const log = o.logger.child({ camera: opts.id });
    const label = asciiName(opts.name);
    const main = new VideoStream({ name: label, width: opts.width, height: opts.height, fps: opts.fps, gopSeconds: opts.gopSeconds, bitrateKbps: opts.bitrateKbps });
    const sub = new VideoStream({ name: label, ...subSize(opts.width, opts.height), fps: opts.fps, gopSeconds: opts.gopSeconds, bitrateKbps: opts.bitrateKbps / 4 });
    const streams = new Map([
      ['main', main],
      ['sub', sub],
    ]);
    const users = { [opts.username]: opts.password };
    const opened: { close(): Promise<void> }[] = [];
    try {
      const rtsp = await RtspServer.create({
        host: opts.host,
        realm: `camera-${opts.id}`,
        auth: { mode: 'digest', users },
        resolve: (path) => streams.get(path),
        logger: log,
      });
      opened.push(rtsp);
      const snapshot = await SnapshotServer.create({
        host: opts.host,
        realm: `camera-${opts.id}`,
        users: () => users,
        sources: (path) => {
          const s = streams.get(path.replace(/^\/?snapshot\//, '').replace(/\.jpg$/, ''));
          return s && { currentFrame: () => s.snapshotI420() };
        },
      });
      opened.push(snapshot);
      const profiles = (): OnvifProfileInfo[] =>
        [...streams].map(([token, s]) => ({
          token,
          name: token === 'main' ? 'MainStream' : 'SubStream',
          width: s.width,
          height: s.height,
          fps: s.fps,
          encoding: 'H264' as const,
          rtspUri: rtsp.url(token),
          snapshotUri: snapshot.url(`snapshot/${token}.jpg`),
        }));
      const model: OnvifCameraModel = {
        name: opts.name,
        manufacturer: 'Schoolcam',
        model: opts.ptz ? 'SimCam PTZ' : 'SimCam 1',
        firmware: '1.0.0',
        serial: `SIM-${opts.id}`,
        hardwareId: opts.ptz ? 'simcam-ptz' : 'simcam-1',
        school: opts.school,
        username: opts.username,
        password: opts.password,
        get profiles() {
          return profiles();
        },
        ptz: opts.ptz,
        clockOffsetMs: 0,
        onSynchronizationPoint: (token) => streams.get(token)?.requestKeyframe(),
      };
      const onvif = await OnvifServer.create({ host: opts.host, camera: model, logger: log });
      opened.push(onvif);
      return new SimCamera(opts, main, sub, model, rtsp, onvif, snapshot, log);
    } catch (err) {
      main.close();
      sub.close();
      await Promise.all(opened.map((s) => s.close()));
      throw err;
    }
  }

  get id(): string {
    return this.opts.id;
  }

  /** The fleet's WS-Discovery responder, told when the camera reboots. */
  setPresenceListener(l: PresenceListener): void {
    this.presence = l;
  }

  /** Discovery misbehaviour the responder applies to this camera. */
  get discoveryFaults(): { zeroXAddrs: boolean; duplicates: boolean } {
    return { ...this.discovery };
  }

  get isDown(): boolean {
    return this.rebooting;
  }

  info(): SimCameraInfo {
    return {
      id: this.opts.id,
      name: this.opts.name,
      school: this.opts.school,
      onvif: this.onvif.xaddr,
      rtsp: this.rtsp.url('main'),
      snapshot: this.snapshot.url('snapshot/main.jpg'),
      username: this.opts.username,
      password: this.opts.password,
      control: `${this.opts.controlBase}/cameras/${encodeURIComponent(this.opts.id)}`,
    };
  }

  state(): Record<string, unknown> {
    const profile = (token: string, s: VideoStream) => ({ token, width: s.width, height: s.height, fps: s.fps, gopSeconds: s.gopSeconds, clients: s.clients, framesSent: s.framesSent });
    return {
      id: this.opts.id,
      name: this.opts.name,
      school: this.opts.school,
      schoolName: this.opts.schoolName,
      up: !this.rebooting,
      clock: new Date(Date.now() + (this.model.clockOffsetMs ?? 0)).toISOString(),
      profiles: [profile('main', this.main), profile('sub', this.sub)],
      faults: {
        rebooting: this.rebooting,
        stall: this.main.stalled,
        auth: this.auth,
        malformed: { ...this.malformed },
        clockOffsetMs: this.model.clockOffsetMs ?? 0,
        discovery: { ...this.discovery },
      },
      events: { ...this.events },
      ptz: this.opts.ptz ? this.onvif.ptzState() : undefined,
    };
  }

  /** Applies one fault (params validated by the control API). Throws RangeError on settings the encoder refuses. */
  applyFault<F extends FaultName>(name: F, params: FaultParamsOf<F>): void {
    if (this.closed) throw new Error('camera closed');
    switch (name) {
      case 'reboot': {
        const p = params as FaultParamsOf<'reboot'>;
        this.reboot((p.downSeconds ?? 5) * 1000, p.resetClock ?? false);
        return;
      }
      case 'stall': {
        const p = params as FaultParamsOf<'stall'>;
        const on = p.on ?? true;
        this.main.stalled = on;
        this.sub.stalled = on;
        this.autoClear('stall', on ? p.seconds : undefined, () => this.applyFault('stall', { on: false }));
        return;
      }
      case 'drop':
        this.log.info({ sessions: this.rtsp.dropSessions() }, 'dropped RTSP sessions');
        return;
      case 'stream': {
        const { profile, ...change } = params as FaultParamsOf<'stream'>;
        (profile === 'sub' ? this.sub : this.main).reconfigure(change);
        return;
      }
      case 'clock-skew':
        this.model.clockOffsetMs = (params as FaultParamsOf<'clock-skew'>).offsetMs;
        return;
      case 'auth':
        this.setAuth((params as FaultParamsOf<'auth'>).mode);
        return;
      case 'lose-subscriptions':
        this.onvif.dropSubscriptions();
        return;
      case 'malformed': {
        const p = params as FaultParamsOf<'malformed'>;
        const on = p.on ?? true;
        if (p.target !== 'soap') {
          this.malformed.rtsp = on;
          this.rtsp.setMalformed(on);
        }
        if (p.target !== 'rtsp') {
          this.malformed.soap = on;
          this.onvif.setMalformed(on);
        }
        this.autoClear(`malformed-${p.target}`, on ? p.seconds : undefined, () => this.applyFault('malformed', { target: p.target, on: false }));
        return;
      }
      case 'discovery': {
        const p = params as FaultParamsOf<'discovery'>;
        this.discovery = { zeroXAddrs: p.zeroXAddrs ?? this.discovery.zeroXAddrs, duplicates: p.duplicates ?? this.discovery.duplicates };
        return;
      }
    }
  }

  triggerEvent<E extends EventName>(name: E, params: EventParamsOf<E>): void {
    if (this.closed) throw new Error('camera closed');
    const state = params.state ?? true;
    this.events[name] = state;
    if (name === 'motion') this.onvif.triggerMotion(state);
    else this.onvif.triggerTamper(state);
  }

  /** Ends every fault: the camera behaves again (a reboot in progress completes first). */
  clearFaults(): void {
    for (const t of this.faultTimers.values()) clearTimeout(t);
    this.faultTimers.clear();
    this.main.stalled = false;
    this.sub.stalled = false;
    this.setAuth('normal');
    this.malformed = { rtsp: false, soap: false };
    this.rtsp.setMalformed(false);
    this.onvif.setMalformed(false);
    this.discovery = { zeroXAddrs: false, duplicates: false };
    this.model.clockOffsetMs = 0;
    if (this.rebooting) this.faultTimers.set('reboot', setTimeout(() => this.comeBack(false), 0));
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.faultTimers.values()) clearTimeout(t);
    this.faultTimers.clear();
    this.main.close();
    this.sub.close();
    await Promise.all([this.rtsp.close(), this.onvif.close(), this.snapshot.close()]);
  }

  private reboot(downMs: number, resetClock: boolean): void {
    if (this.rebooting) return;
    // Bye while still listed: the responder announces only cameras that are up.
    this.presence?.bye(this.id);
    this.rebooting = true;
    this.log.info({ downMs, resetClock }, 'rebooting');
    this.onvif.dropSubscriptions();
    // The RTSP server logs a failed listener change itself; a reboot goes on regardless.
    this.rtsp.setRefusing(true).catch(() => undefined);
    this.onvif.setRefusing(true);
    this.snapshot.setRefusing(true);
    this.faultTimers.set('reboot', setTimeout(() => this.comeBack(resetClock), downMs));
  }

  private comeBack(resetClock: boolean): void {
    this.faultTimers.delete('reboot');
    if (this.closed || !this.rebooting) return;
    if (resetClock) this.model.clockOffsetMs = FACTORY_CLOCK_MS - Date.now();
    // A rebooted encoder starts a new sequence: the first frame a client gets is an IDR.
    this.main.requestKeyframe();
    this.sub.requestKeyframe();
    this.rtsp.setRefusing(false).catch(() => undefined);
    this.onvif.setRefusing(false);
    this.snapshot.setRefusing(false);
    this.rebooting = false;
    this.log.info('back from reboot');
    this.presence?.hello(this.id);
  }

  /** `normal` is how the camera boots: Digest for RTSP and snapshots, WS-UsernameToken or Digest for ONVIF. */
  private setAuth(mode: AuthFault): void {
    this.auth = mode;
    const rtspMode = mode === 'normal' ? 'digest' : mode === 'digest-only' ? 'digest' : mode === 'basic-only' ? 'basic' : 'always-wrong';
    this.rtsp.setAuthMode(rtspMode);
    this.snapshot.setAuthMode(rtspMode);
    this.onvif.setAuthMode(mode === 'always-wrong' ? 'always-wrong' : 'normal');
    // ONVIF has no Basic: digest-only answers with an HTTP Digest challenge, the other modes
    // accept WS-UsernameToken as well.
    this.model.authSchemes = mode === 'digest-only' ? 'http-digest' : 'any';
  }

  private autoClear(key: string, seconds: number | undefined, clear: () => void): void {
    clearTimeout(this.faultTimers.get(key));
    this.faultTimers.delete(key);
    if (seconds !== undefined) {
      this.faultTimers.set(
        key,
        setTimeout(() => {
          this.faultTimers.delete(key);
          clear();
        }, seconds * 1000),
      );
    }
  }
}

/** Sub stream: half the main size (even, at least 160×90), as cameras ship by default. */
function subSize(width: number, height: number): { width: number; height: number } {
  const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);
  return { width: Math.max(160, even(width / 2)), height: Math.max(90, even(height / 2)) };
}

/** The encoder's font is ASCII: "Tělocvična" is drawn as "Telocvicna". */
function asciiName(name: string): string {
  return name.normalize('NFD').replace(/\p{M}/gu, '');
}
