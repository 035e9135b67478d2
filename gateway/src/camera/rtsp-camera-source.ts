import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { openRtspVideo, type RtspClient } from '@schoolcam/protocol/rtsp/rtsp-client';
import { parseRtp } from '@schoolcam/protocol/rtp/rtp-packet';
import { H264Depacketizer } from '@schoolcam/protocol/h264/depacketizer';
import { NalType, nalType } from '@schoolcam/protocol/h264/nal';
import { parseSps } from '@schoolcam/protocol/h264/sps';
import type { CameraConfig } from '../config';
import { OnvifCamera } from '../onvif/onvif-client';
import type { CameraSource, CameraSourceEvents } from './camera-source';

/** Gap between two SetSynchronizationPoint calls for one camera. */
const KEYFRAME_MIN_INTERVAL_MS = 250;

/**
 * A camera pulled over RTSP (TCP interleaved), its URL resolved through ONVIF when
 * configured so. Malformed RTP or H.264 ends the source with the reason: the camera is
 * marked failing, the gateway's other cameras are untouched.
 */
export class RtspCameraSource extends EventEmitter<CameraSourceEvents> implements CameraSource {
  width: number | undefined;
  height: number | undefined;
  readonly parameterSets: { sps?: Buffer; pps?: Buffer } = {};
  private readonly depacketizer = new H264Depacketizer();
  private closed = false;
  private lastKeyframeRequest = 0;

  private constructor(
    private readonly client: RtspClient,
    private readonly channel: number,
    private readonly onvif: { camera: OnvifCamera; profileToken: string } | undefined,
    private readonly log: Logger,
  ) {
    super();
  }

  get keyframeOnDemand(): boolean {
    return this.onvif !== undefined;
  }

  static async open(cfg: CameraConfig, log: Logger): Promise<RtspCameraSource> {
    let url: string;
    let username: string | undefined;
    let password: string | undefined;
    let onvif: { camera: OnvifCamera; profileToken: string } | undefined;
    if (cfg.onvif) {
      const camera = await OnvifCamera.connect({ xaddr: cfg.onvif.xaddr, username: cfg.onvif.username, password: cfg.onvif.password });
      const profiles = camera.profiles;
      const profile = cfg.onvif.profile === 'sub' ? profiles.at(-1) : profiles[0];
      if (!profile) {
        camera.close();
        throw new Error('camera has no H.264 media profile');
      }
      onvif = { camera, profileToken: profile.token };
      url = profile.rtspUri;
      username = cfg.onvif.username;
      password = cfg.onvif.password;
    } else {
      url = cfg.rtsp!.url;
      username = cfg.rtsp!.username;
      password = cfg.rtsp!.password;
    }
    let opened;
    try {
      opened = await openRtspVideo(url, { username, password, logger: log });
    } catch (err) {
      onvif?.camera.close();
      throw err;
    }
    const source = new RtspCameraSource(opened.client, opened.video.channel, onvif, log);
    const [sps, pps] = opened.video.fmtp.spropParameterSets;
    if (sps && nalType(sps) === NalType.Sps) source.learnSps(sps);
    if (pps && nalType(pps) === NalType.Pps) source.parameterSets.pps = pps;
    opened.client.on('rtp', (channel, packet) => {
      if (channel === source.channel) source.onRtp(packet);
    });
    opened.client.once('close', (err) => void source.shutdown(err ?? new Error('camera closed the RTSP connection')));
    return source;
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
    let units;
    try {
      units = this.depacketizer.push(parseRtp(packet));
    } catch (err) {
      void this.shutdown(new Error(`malformed RTP from camera: ${(err as Error).message}`));
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

  private async shutdown(err: Error | undefined): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (err) this.log.warn({ reason: err.message }, 'camera stream ended');
    this.onvif?.camera.close();
    await this.client.close();
    this.emit('close', err);
  }
}

/** The production {@link CameraSourceFactory}. */
export const openCameraSource = (cfg: CameraConfig, log: Logger): Promise<CameraSource> => RtspCameraSource.open(cfg, log);
