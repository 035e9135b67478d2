import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { RtspServer } from '@schoolcam/protocol/rtsp/rtsp-server';
import { OnvifServer } from '../onvif/onvif-server';
import type { OnvifCameraModel, OnvifProfileInfo } from '../onvif/onvif-camera-model';
import { VideoStream } from './video-stream';

export interface SimCameraOptions {
  id: string;
  name: string;
  school: string;
  width?: number;
  height?: number;
  fps?: number;
  gopSeconds?: number;
  username?: string;
  password?: string;
  host?: string;
  rtspPort?: number;
  onvifPort?: number;
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

const MAIN_PATH = 'main';

/** A simulated ONVIF camera: its own RTSP server (Digest auth) and ONVIF SOAP server. */
export class SimCamera {
  private closed = false;

  private constructor(
    readonly opts: Required<Omit<SimCameraOptions, 'rtspPort' | 'onvifPort' | 'controlBase' | 'logger'>> & { controlBase: string },
    readonly main: VideoStream,
    readonly rtsp: RtspServer,
    readonly onvif: OnvifServer,
  ) {}

  static async create(o: SimCameraOptions): Promise<SimCamera> {
    const opts = {
      id: o.id,
      name: o.name,
      school: o.school,
      width: o.width ?? 640,
      height: o.height ?? 360,
      fps: o.fps ?? 15,
      gopSeconds: o.gopSeconds ?? 2,
      username: o.username ?? 'admin',
      password: o.password ?? randomBytes(9).toString('base64url'),
      host: o.host ?? '127.0.0.1',
      controlBase: o.controlBase ?? '',
    };
    const main = new VideoStream({ name: asciiName(opts.name), width: opts.width, height: opts.height, fps: opts.fps, gopSeconds: opts.gopSeconds });
    const log = o.logger.child({ camera: opts.id });
    const rtsp = await RtspServer.create({
      host: opts.host,
      port: o.rtspPort ?? 0,
      realm: `camera-${opts.id}`,
      auth: { mode: 'digest', users: { [opts.username]: opts.password } },
      resolve: (path) => (path === MAIN_PATH ? main : undefined),
      logger: log,
    }).catch((err: unknown) => {
      main.close();
      throw err;
    });
    const rtspUri = rtsp.url(MAIN_PATH);
    const profiles: OnvifProfileInfo[] = [
      { token: 'main', name: 'MainStream', width: opts.width, height: opts.height, fps: opts.fps, encoding: 'H264', rtspUri, snapshotUri: `http://${opts.host}/snapshot` },
    ];
    const model: OnvifCameraModel = {
      name: opts.name,
      manufacturer: 'Schoolcam',
      model: 'SimCam 1',
      firmware: '1.0.0',
      serial: `SIM-${opts.id}`,
      hardwareId: 'simcam-1',
      school: opts.school,
      username: opts.username,
      password: opts.password,
      profiles,
      onSynchronizationPoint: () => main.requestKeyframe(),
    };
    let onvif: OnvifServer;
    try {
      onvif = await OnvifServer.create({ host: opts.host, port: o.onvifPort ?? 0, camera: model });
    } catch (err) {
      main.close();
      await rtsp.close();
      throw err;
    }
    // The snapshot is served by the simulator issue's JPEG encoder; until then the URI points at ONVIF's host.
    profiles[0]!.snapshotUri = `http://${opts.host}:${onvif.port}/snapshot/main.jpg`;
    return new SimCamera(opts, main, rtsp, onvif);
  }

  info(): SimCameraInfo {
    return {
      id: this.opts.id,
      name: this.opts.name,
      school: this.opts.school,
      onvif: `http://${this.opts.host}:${this.onvif.port}/onvif/device_service`,
      rtsp: this.rtsp.url(MAIN_PATH),
      snapshot: `http://${this.opts.host}:${this.onvif.port}/snapshot/main.jpg`,
      username: this.opts.username,
      password: this.opts.password,
      control: `${this.opts.controlBase}/cameras/${encodeURIComponent(this.opts.id)}`,
    };
  }

  state(): Record<string, unknown> {
    return {
      id: this.opts.id,
      name: this.opts.name,
      school: this.opts.school,
      profiles: [{ token: 'main', width: this.main.width, height: this.main.height, fps: this.main.fps, clients: this.main.clients, framesSent: this.main.framesSent }],
      faults: { stall: this.main.stalled },
    };
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.main.close();
    await Promise.all([this.rtsp.close(), this.onvif.close()]);
  }
}

/** The encoder's font is ASCII: "Tělocvična" is drawn as "Telocvicna". */
function asciiName(name: string): string {
  return name.normalize('NFD').replace(/\p{M}/gu, '');
}
