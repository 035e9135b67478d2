import { randomBytes } from 'node:crypto';
import { NalType } from '@schoolcam/protocol/h264/nal';
import { serializeRtp } from '@schoolcam/protocol/rtp/rtp-packet';
import type { RtspMediaSource, RtspSessionControl } from '@schoolcam/protocol/rtsp/rtsp-server';
import { buildH264Sdp } from '@schoolcam/protocol/sdp/sdp';
import type { TapLease, TapPacket } from '../fanout/fanout';
import type { CameraRecord } from '../storage/camera-store';
import type { LiveView } from '../viewer/live-views';

const PAYLOAD_TYPE = 96;

/** A camera's SPS and PPS as last seen in its stream. */
export interface ParameterSets {
  sps: Buffer;
  pps: Buffer;
}

/** What an {@link ExportSource} needs of the re-export server. */
export interface ExportSourceHooks {
  /** PLAY: start the session's live view; returns what undoes it (TEARDOWN, connection closed). */
  start(control: { end(reason: string): void; attach(view: LiveView<TapLease>): void }): () => void;
  /** The stream carried new parameter sets (remembered for later DESCRIBEs). */
  onParameterSets(sets: ParameterSets): void;
}

/**
 * One camera under one grant, as the RTSP server plays it: the fan-out's RTP payloads
 * (RFC 6184, packetization-mode 1, as the gateway packetized them) under the session's own
 * SSRC and sequence numbers, timestamps unchanged. The cached GOP comes first, so a client
 * decodes at once.
 */
export class ExportSource implements RtspMediaSource {
  constructor(
    private readonly camera: CameraRecord,
    private readonly known: ParameterSets | undefined,
    private readonly hooks: ExportSourceHooks,
  ) {}

  describe(): string {
    if (this.known) return buildH264Sdp({ ...this.known, sessionName: this.camera.id, control: 'trackID=0' });
    // Parameter sets not seen yet: the stream carries them in-band before every key frame (RFC 6184 §8.4).
    return [
      'v=0',
      `o=- ${Date.now()} 1 IN IP4 127.0.0.1`,
      `s=${this.camera.id.replace(/[\r\n]/g, '')}`,
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'a=tool:schoolcam',
      'a=range:npt=0-',
      'a=control:*',
      `m=video 0 RTP/AVP ${PAYLOAD_TYPE}`,
      `a=rtpmap:${PAYLOAD_TYPE} H264/90000`,
      `a=fmtp:${PAYLOAD_TYPE} packetization-mode=1`,
      'a=control:trackID=0',
      '',
    ].join('\r\n');
  }

  subscribe(_trackIds: number[], onRtp: (trackId: number, packet: Buffer) => void, session: RtspSessionControl): () => void {
    const ssrc = randomBytes(4).readUInt32BE(0);
    let seq = randomBytes(2).readUInt16BE(0);
    let sps: Buffer | undefined;
    return this.hooks.start({
      end: (reason) => session.end(reason),
      attach: (view) => {
        view.lease.onPackets((packets: TapPacket[]) => {
          for (const p of packets) {
            for (const found of parameterSets(p.payload)) {
              if (found.type === NalType.Sps) sps = found.nal;
              else if (sps) this.hooks.onParameterSets({ sps, pps: found.nal });
            }
            onRtp(0, serializeRtp({ marker: p.marker, payloadType: PAYLOAD_TYPE, sequenceNumber: seq, timestamp: p.timestamp, ssrc, csrcs: [], payload: p.payload }));
            seq = (seq + 1) & 0xffff;
          }
        });
      },
    });
  }
}

/** The SPS and PPS NAL units in a payload: alone, or aggregated in a STAP-A (as the gateway's packetizer sends them). */
function parameterSets(payload: Buffer): { type: number; nal: Buffer }[] {
  const type = payload[0] & 0x1f;
  if (type === NalType.Sps || type === NalType.Pps) return [{ type, nal: Buffer.from(payload) }];
  if (type !== NalType.StapA) return [];
  const found: { type: number; nal: Buffer }[] = [];
  for (let off = 1; off + 2 < payload.length; ) {
    const size = payload.readUInt16BE(off);
    if (size === 0 || off + 2 + size > payload.length) break;
    const t = payload[off + 2] & 0x1f;
    if (t === NalType.Sps || t === NalType.Pps) found.push({ type: t, nal: Buffer.from(payload.subarray(off + 2, off + 2 + size)) });
    off += 2 + size;
  }
  return found;
}
