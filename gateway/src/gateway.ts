import { readFileSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { type LinkMessage, linkReason, unreachable } from '@schoolcam/protocol/link/link-messages';
import type { PeerOptions } from '@schoolcam/protocol/webrtc/werift-peer';
import type { GatewayConfig } from './config';
import { Camera, type CameraSourceFactory } from './camera/camera';
import { openCameraSource } from './camera/rtsp-camera-source';
import { LinkClient } from './link/link-client';
import { WebRtcUplink } from './uplink/webrtc-uplink';

export const GATEWAY_VERSION = '0.1.0';

export interface GatewayOptions {
  logger?: Logger;
  /** Replaces the RTSP/ONVIF source (tests). */
  sourceFactory?: CameraSourceFactory;
}

/**
 * The school gateway: the cameras of one school, one outbound link to the centre,
 * and one WebRTC uplink per camera the centre asked for.
 */
export class Gateway {
  private readonly cameras = new Map<string, Camera>();
  private readonly uplinks = new Map<string, WebRtcUplink>();
  /** Streams whose uplink is being negotiated, and whether they were called off meanwhile. */
  private readonly starting = new Map<string, { cancelled: boolean }>();
  private readonly link: LinkClient;
  private readonly peerOpts: PeerOptions;
  private closed = false;

  private constructor(
    readonly config: Readonly<GatewayConfig>,
    private readonly log: Logger,
    factory: CameraSourceFactory,
  ) {
    this.peerOpts = { loopbackOnly: config.loopbackOnly };
    for (const c of config.cameras) {
      const camera = new Camera(c, factory, config.lingerMs, log.child({ module: 'gateway:camera', camera: c.id }));
      camera.on('state', (inv) => this.link.send({ type: 'camera.state', camera: inv }));
      this.cameras.set(c.id, camera);
    }
    const ca = config.centerCaFile ? readFileSync(config.centerCaFile, 'utf8') : undefined;
    this.link = new LinkClient({ centerUrl: config.centerUrl, gatewayId: config.gatewayId, secret: config.secret, ca }, log.child({ module: 'gateway:link' }));
    this.link.on('open', () => this.sendHello());
    this.link.on('message', (msg) => this.onMessage(msg));
    this.link.on('down', () => this.closeUplinks('link down'));
  }

  static create(config: Readonly<GatewayConfig>, opts: GatewayOptions = {}): Gateway {
    const log = opts.logger ?? pino({ name: 'gateway', level: config.logLevel }, pino.destination(2));
    const gw = new Gateway(config, log, opts.sourceFactory ?? openCameraSource);
    gw.link.start();
    return gw;
  }

  get linkUp(): boolean {
    return this.link.isOpen;
  }

  /** Counts for health and leak tests. */
  stats(): { uplinks: number; camerasRunning: number } {
    let running = 0;
    for (const c of this.cameras.values()) if (c.running) running++;
    return { uplinks: this.uplinks.size, camerasRunning: running };
  }

  /** Idempotent: uplinks, then cameras, then the link. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeUplinks('gateway shutting down');
    await Promise.all([...this.cameras.values()].map((c) => c.close()));
    this.link.close();
  }

  private sendHello(): void {
    this.link.send({
      type: 'hello',
      gatewayId: this.config.gatewayId,
      schoolId: this.config.schoolId,
      version: GATEWAY_VERSION,
      cameras: [...this.cameras.values()].map((c) => c.inventory()),
    });
  }

  private onMessage(msg: LinkMessage): void {
    switch (msg.type) {
      case 'welcome':
      case 'pong':
        return;
      case 'ping':
        this.link.send({ type: 'pong', t: msg.t });
        return;
      case 'stream.start':
        void this.startStream(msg.streamId, msg.cameraId);
        return;
      case 'stream.answer': {
        const uplink = this.uplinks.get(msg.streamId);
        if (!uplink) return;
        uplink.accept(msg.sdp).catch((err: Error) => {
          this.log.warn({ stream: msg.streamId, err: err.message }, 'bad answer from centre');
          uplink.close(`bad answer: ${err.message}`);
        });
        return;
      }
      case 'stream.stop': {
        const pending = this.starting.get(msg.streamId);
        if (pending) pending.cancelled = true;
        this.uplinks.get(msg.streamId)?.close(`centre: ${msg.reason}`);
        return;
      }
      case 'error':
        this.log.warn({ code: msg.code, message: msg.message }, 'centre reported an error');
        return;
      case 'hello':
      case 'camera.state':
      case 'stream.offer':
      case 'stream.ended':
        this.log.warn({ type: msg.type }, 'centre sent a gateway-only message');
        return;
      default:
        unreachable(msg);
    }
  }

  private async startStream(streamId: string, cameraId: string): Promise<void> {
    const camera = this.cameras.get(cameraId);
    if (!camera) {
      this.link.send({ type: 'stream.ended', streamId, cameraId, reason: 'unknown camera' });
      return;
    }
    if (this.uplinks.has(streamId) || this.starting.has(streamId)) return;
    const pending = { cancelled: false };
    this.starting.set(streamId, pending);
    try {
      const { uplink, offer } = await WebRtcUplink.create(streamId, camera, this.peerOpts, this.log.child({ module: 'gateway:uplink' }));
      // Negotiation takes a while: the centre, the link or the gateway may have gone meanwhile,
      // and nobody would ever stop an uplink whose offer was never delivered.
      if (this.closed || pending.cancelled || !this.link.isOpen) {
        uplink.close(this.closed ? 'gateway shutting down' : 'centre: stream called off while starting');
        return;
      }
      this.uplinks.set(streamId, uplink);
      uplink.once('close', (reason) => {
        this.uplinks.delete(streamId);
        if (!reason.startsWith('centre:')) this.link.send({ type: 'stream.ended', streamId, cameraId, reason: linkReason(reason) });
      });
      // A camera that fails while relayed ends its stream; the centre tells the viewers.
      const onState = (inv: { state: string; reason?: string }): void => {
        if (inv.state === 'failing') uplink.close(`camera failing: ${inv.reason ?? 'unknown'}`);
      };
      camera.on('state', onState);
      uplink.once('close', () => camera.off('state', onState));
      this.link.send({ type: 'stream.offer', streamId, cameraId, sdp: offer });
    } catch (err) {
      this.log.warn({ stream: streamId, err: (err as Error).message }, 'uplink failed to start');
      this.link.send({ type: 'stream.ended', streamId, cameraId, reason: linkReason(`uplink failed: ${(err as Error).message}`) });
    } finally {
      this.starting.delete(streamId);
    }
  }

  private closeUplinks(reason: string): void {
    for (const p of this.starting.values()) p.cancelled = true;
    for (const u of [...this.uplinks.values()]) u.close(reason);
  }
}
