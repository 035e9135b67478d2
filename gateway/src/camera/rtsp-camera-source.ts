import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { openRtspVideo, type RtspClient, type RtspClientOptions } from '@schoolcam/protocol/rtsp/rtsp-client';
import { RtspError } from '@schoolcam/protocol/rtsp/rtsp-error';
import { parseRtp } from '@schoolcam/protocol/rtp/rtp-packet';
import { H264Depacketizer } from '@schoolcam/protocol/h264/depacketizer';
import { NalType, nalType } from '@schoolcam/protocol/h264/nal';
import { parseSps } from '@schoolcam/protocol/h264/sps';
import type { CameraConfig } from '../config';
import { OnvifCamera, OnvifError } from '../onvif/onvif-client';
import { CameraSourceError, type CameraSource, type CameraSourceEvents, type SourceFailureKind } from './camera-source';
import type { CameraSourceFactory } from './camera';

/** Gap between two SetSynchronizationPoint calls for one camera. */
const KEYFRAME_MIN_INTERVAL_MS = 250;
/** UDP that brings no packet this long after PLAY is taken as blocked: the source reopens over TCP (gortsplib waits 3 s too). */
const UDP_FIRST_PACKET_MS = 3000;
/** A camera whose UDP was blocked is pulled over TCP for this long before UDP is tried again. */
const UDP_BLOCKED_MEMORY_MS = 10 * 60_000;

/**
 * A camera pulled over RTSP (TCP interleaved, or UDP with fallback to TCP), its URL resolved
 * through ONVIF when configured so. Malformed RTP or H.264 ends the source with the reason: the
 * camera is marked failing, the gateway's other cameras are untouched.
 */
export class RtspCameraSource extends EventEmitter<CameraSourceEvents> implements CameraSource {
  width: number | undefined;
  height: number | undefined;
  readonly parameterSets: { sps?: Buffer; pps?: Buffer } = {};
  lastPacketAt = 0;
  private readonly depacketizer = new H264Depacketizer();
  private closed = false;
  private lastKeyframeRequest = 0;

  private constructor(
    private readonly client: RtspClient,
    private readonly channel: number,
    readonly transport: 'tcp' | 'udp',
    private readonly onvif: { camera: OnvifCamera; profileToken: string } | undefined,
    private readonly log: Logger,
  ) {
    super();
  }

  get keyframeOnDemand(): boolean {
    return this.onvif !== undefined;
  }

  /** Rejects with a {@link CameraSourceError}. */
  static async open(cfg: CameraConfig, log: Logger, udpBlocked = false): Promise<RtspCameraSource> {
    let url: string;
    let username: string | undefined;
    let password: string | undefined;
    let onvif: { camera: OnvifCamera; profileToken: string } | undefined;
    try {
      if (cfg.onvif) {
        const camera = await OnvifCamera.connect({ xaddr: cfg.onvif.xaddr, username: cfg.onvif.username, password: cfg.onvif.password });
        const profiles = camera.profiles;
        const profile = cfg.onvif.profile === 'sub' ? profiles.at(-1)! : profiles[0];
        onvif = { camera, profileToken: profile.token };
        url = profile.rtspUri;
        username = cfg.onvif.username;
        password = cfg.onvif.password;
      } else {
        url = cfg.rtsp!.url;
        username = cfg.rtsp!.username;
        password = cfg.rtsp!.password;
      }
    } catch (err) {
      throw asSourceError(err);
    }
    const rtspOpts: RtspClientOptions = { username, password, logger: log, allowBasic: cfg.allowBasicAuth === true };
    const wantUdp = cfg.transport === 'udp' && !udpBlocked;
    let transport: 'tcp' | 'udp' = wantUdp ? 'udp' : 'tcp';
    try {
      let opened = await openRtspVideo(url, { ...rtspOpts, transport }).catch((err: unknown) => {
        // RFC 2326 §12.39: 461 Unsupported Transport, or a server answering UDP with something else.
        if (transport === 'udp' && err instanceof RtspError && (err.statusCode === 461 || err.code === 'RTSP_BAD_HEADER_VALUE')) {
          log.info({ err: err.message }, 'camera refuses RTSP over UDP; using TCP');
          transport = 'tcp';
          return openRtspVideo(url, { ...rtspOpts, transport });
        }
        throw err;
      });
      if (transport === 'udp' && !(await firstPacket(opened.client, opened.video.channel, UDP_FIRST_PACKET_MS))) {
        log.warn('no RTP over UDP within 3 s (blocked by a firewall?); using TCP');
        await opened.client.close();
        transport = 'tcp';
        opened = await openRtspVideo(url, { ...rtspOpts, transport });
      }
      const source = new RtspCameraSource(opened.client, opened.video.channel, transport, onvif, log);
      const [sps, pps] = opened.video.fmtp.spropParameterSets;
      if (sps && nalType(sps) === NalType.Sps) source.learnSps(sps);
      if (pps && nalType(pps) === NalType.Pps) source.parameterSets.pps = pps;
      opened.client.on('rtp', (channel, packet) => {
        if (channel === source.channel) source.onRtp(packet);
      });
      opened.client.once('close', (err) => void source.shutdown(asSourceError(err ?? new RtspError('RTSP_CLOSED', 'camera closed the RTSP connection'))));
      return source;
    } catch (err) {
      onvif?.camera.close();
      throw asSourceError(err);
    }
  }

  requestKeyframe(): void {
    if (!this.onvif || this.closed) return;
    const now = Date.now();
    if (now - this.lastKeyframeRequest < KEYFRAME_MIN_INTERVAL_MS) return;
    this.lastKeyframeRequest = now;
    this.onvif.camera.setSynchronizationPoint(this.onvif.profileToken).catch((err: Error) => {
      this.log.debug({ err: err.message }, 'SetSynchronizationPoint failed');
    });
  }

  close(): Promise<void> {
    return this.shutdown(undefined);
  }

  private onRtp(packet: Buffer): void {
    if (this.closed) return;
    this.lastPacketAt = Date.now();
    let units;
    try {
      units = this.depacketizer.push(parseRtp(packet));
    } catch (err) {
      void this.shutdown(new CameraSourceError('bad-stream', `malformed RTP from camera: ${(err as Error).message}`, { cause: err }));
      return;
    }
    for (const au of units) {
      if (au.keyframe) {
        for (const nal of au.nalus) {
          const t = nalType(nal);
          if (t === NalType.Sps) this.learnSps(nal);
          else if (t === NalType.Pps) this.parameterSets.pps = nal;
        }
      }
      this.emit('frame', au);
    }
  }

  private learnSps(sps: Buffer): void {
    if (this.parameterSets.sps?.equals(sps)) return;
    try {
      const info = parseSps(sps);
      this.width = info.width;
      this.height = info.height;
      this.parameterSets.sps = sps;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'camera sent an SPS we cannot parse');
    }
  }

  private async shutdown(err: CameraSourceError | undefined): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (err) this.log.warn({ kind: err.kind, reason: err.message }, 'camera stream ended');
    this.onvif?.camera.close();
    await this.client.close();
    this.emit('close', err);
  }
}

/** Resolves true once an RTP packet arrives on `channel`, false after `ms` (or when the client closes). */
function firstPacket(client: RtspClient, channel: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      client.off('rtp', onRtp);
      client.off('close', onClose);
      resolve(ok);
    };
    const onRtp = (ch: number): void => {
      if (ch === channel) done(true);
    };
    const onClose = (): void => done(false);
    const timer = setTimeout(() => done(false), ms);
    client.on('rtp', onRtp);
    client.once('close', onClose);
  });
}

/** Typed cause of a failure, decided on error codes, never on message text. */
export function asSourceError(err: unknown): CameraSourceError {
  if (err instanceof CameraSourceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  let kind: SourceFailureKind = 'bad-stream';
  if (err instanceof RtspError) {
    switch (err.code) {
      case 'RTSP_CONNECT_FAILED':
      case 'RTSP_TIMEOUT':
      case 'RTSP_CLOSED':
        kind = 'unreachable';
        break;
      case 'RTSP_UNAUTHORIZED':
      case 'RTSP_BASIC_REFUSED':
        kind = 'auth';
        break;
      case 'RTSP_NO_SUITABLE_TRACK':
      case 'RTSP_BAD_URL':
        kind = 'unsupported';
        break;
      case 'RTSP_STATUS':
        // 5xx: a camera still booting or overloaded; 4xx: a wrong path or a refused request.
        kind = (err.statusCode ?? 500) >= 500 ? 'unreachable' : 'unsupported';
        break;
      default:
        kind = 'bad-stream';
    }
  } else if (err instanceof OnvifError) {
    kind = err.code === 'ONVIF_UNREACHABLE' || err.code === 'ONVIF_TIMEOUT' ? 'unreachable' : err.code === 'ONVIF_AUTH' ? 'auth' : err.code === 'ONVIF_UNSUPPORTED' ? 'unsupported' : 'bad-stream';
  }
  return new CameraSourceError(kind, message, { cause: err });
}

/**
 * The production {@link CameraSourceFactory}. It remembers, per camera, that UDP was blocked, so
 * reconnects go straight to TCP for a while instead of losing 3 s to UDP each time.
 */
export function rtspSourceFactory(): CameraSourceFactory {
  const udpBlockedUntil = new Map<string, number>();
  return async (cfg, log) => {
    const blocked = (udpBlockedUntil.get(cfg.id) ?? 0) > Date.now();
    const source = await RtspCameraSource.open(cfg, log, blocked);
    if (cfg.transport === 'udp' && !blocked && source.transport === 'tcp') udpBlockedUntil.set(cfg.id, Date.now() + UDP_BLOCKED_MEMORY_MS);
    return source;
  };
}
