import { MsePlayer } from '../mse-player';
import type { TileEvent } from '../stores/viewer-socket';
import { SocketTransport } from './socket-transport';

/** The codec the simulator's and most schools' cameras send (H.264 Constrained Baseline 3.1): what the fallback must play. */
export const MSE_PROBE_CODEC = 'avc1.42e01f';

/**
 * The fallback where WebRTC cannot connect (UDP blocked): the same camera as fMP4 over the
 * page's viewer socket into Media Source Extensions. The centre answers the `watch` with an
 * `mse` event naming the codec, then sends init and media segments as binary frames. It
 * always carries the camera's main stream, a little later than WebRTC (TCP, segments).
 */
export class MseTransport extends SocketTransport {
  readonly kind = 'mse' as const;
  readonly profile = 'main' as const;
  private player: MsePlayer | undefined;

  /** True when this browser can play the fallback at all. */
  static supported(): boolean {
    return MsePlayer.supports(MSE_PROBE_CODEC);
  }

  inbound(): Promise<Record<string, unknown> | null> {
    if (!this.player) return Promise.resolve(null);
    const q = this.ctx.video.getVideoPlaybackQuality();
    return Promise.resolve({
      type: 'mse',
      totalVideoFrames: q.totalVideoFrames,
      droppedVideoFrames: q.droppedVideoFrames,
      bufferedAheadS: bufferedAhead(this.ctx.video),
    });
  }

  protected release(): void {
    this.player?.close();
    this.player = undefined;
  }

  protected onMedia(ev: Exclude<TileEvent, { type: 'ended' | 'error' }>): void {
    if (ev.type !== 'mse') return;
    const first = !this.player;
    this.player ??= new MsePlayer(this.ctx.video);
    this.player.setCodec(ev.codec);
    if (first) this.ctx.events.media();
  }

  protected override onData(fmp4: Uint8Array<ArrayBuffer>): void {
    this.player?.append(fmp4);
  }
}

/** Seconds of video buffered past the playhead. */
function bufferedAhead(video: HTMLVideoElement): number {
  const r = video.buffered;
  return r.length === 0 ? 0 : Math.max(0, r.end(r.length - 1) - video.currentTime);
}
