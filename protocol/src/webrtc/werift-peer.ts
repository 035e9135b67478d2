import {
  MediaStreamTrack,
  RTCPeerConnection,
  type RTCPeerConnectionConfig,
  type RTCRtpTransceiver,
  type RtpPacket as WeriftRtpPacket,
  useH264,
} from 'werift';
import type { RtpPacket } from '../rtp/rtp-packet';
import { SrtpReceiver, SrtpSender } from '../srtp/srtp-context';

/**
 * The one place that touches werift, for the gateway uplink, the centre's fan-out and the
 * benchmarks' light viewers. werift keeps ICE, DTLS and RTCP; the media of a sendonly
 * peer can leave through our own SRTP and UDP path ({@link VideoSendPeer.mediaPath}).
 *
 * werift's sharp edges handled here:
 * - its default STUN server is on the internet; offline sites must use `iceServers: []`, and even
 *   then its ICE agent falls back to stun.l.google.com unless told otherwise (see createPeer);
 * - `iceInterfaceAddresses` does not restrict gathering to loopback (it falls back to every
 *   address when the filter matches nothing), so loopback-only mode adds 127.0.0.1 as an extra
 *   host address, filters candidate pairs, and strips other candidates from the SDP;
 * - its SRTP profile list is a module constant preferring AEAD_AES_128_GCM; every transport
 *   is set to AES_CM_128_HMAC_SHA1_80 (the profile every browser offers) so that our own
 *   SRTP path ({@link SrtpSender}) can take over the media;
 * - its sender rewrites the RTP packet object it is given in place and keeps it for NACK
 *   retransmission, so one object shared by several senders ends up with another's SSRC:
 *   media sent by us never goes through werift's sender.
 */
export interface PeerOptions {
  /** Keep media on 127.0.0.1 (single-host demo and tests). Default false. */
  loopbackOnly?: boolean;
}

export const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';

/** RTP header extension telling the receiver the playout delay to use (webrtc.org experiment, 10 ms units). */
export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';
/** The extension id we offer for {@link PLAYOUT_DELAY_URI}. */
const PLAYOUT_DELAY_ID = 6;
/** SRTP protection profile AES_CM_128_HMAC_SHA1_80 (RFC 5764 §4.1.2). */
const SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;

/** The werift internals this adapter reaches; nothing outside this file sees them. */
interface UdpTransportInternals {
  socket: { send(buf: Buffer, port: number, address: string): void; setRecvBufferSize(bytes: number): void; close(): void };
  closed: boolean;
  onData: (data: Buffer, addr: [string, number]) => void;
}
interface ProtocolInternals {
  type: string;
  transport?: UdpTransportInternals;
}
interface IceConnectionInternals {
  stunServer?: [string, number];
  nominated?: { protocol: ProtocolInternals; remoteAddr: [string, number] };
  protocols: ProtocolInternals[];
  canSendApplicationData(): boolean;
  send(data: Buffer): Promise<void>;
}
/** A handshake message as werift's DTLS socket hands it on (`msg_type` 3: HelloVerifyRequest). */
interface HandshakeInternals {
  msg_type: number;
}
interface DtlsSocketInternals {
  dtls: { flight: number };
  connect?: () => Promise<void>;
  onHandleHandshakes: (assembled: HandshakeInternals[]) => Promise<void>;
}
interface DtlsTransportInternals {
  srtpProfiles: number[];
  start(): Promise<void>;
  iceTransport: { connection: IceConnectionInternals };
  dtls?: DtlsSocketInternals & { srtp: { srtpProfile?: number }; extractSessionKeys(keyLength: number, saltLength: number): { localKey: Buffer; localSalt: Buffer; remoteKey: Buffer; remoteSalt: Buffer } };
}
interface PeerInternals {
  secureManager: { createTransport(): DtlsTransportInternals };
  dtlsTransports: DtlsTransportInternals[];
}

/** Every peer of this thread that is not closed yet (see {@link stopAllSocketsNow}). */
const livePeers = new Set<RTCPeerConnection>();

/**
 * Stops every UDP socket of every peer of this thread at once. For a worker thread about
 * to die of an uncaught error: Node 20 aborts the whole process when a datagram reaches a
 * socket of a thread that is being torn down (UDPWrap::OnRecv, nodejs/node#56020), so
 * nothing may be left receiving.
 */
export function stopAllSocketsNow(): void {
  for (const pc of livePeers) {
    for (const dtls of (pc as unknown as PeerInternals).dtlsTransports) {
      for (const protocol of dtls.iceTransport.connection.protocols) {
        try {
          protocol.transport?.socket.close();
        } catch {
          // already closed
        }
      }
    }
  }
  livePeers.clear();
}

async function closePeer(pc: RTCPeerConnection): Promise<void> {
  await pc.close().catch(() => undefined);
  livePeers.delete(pc);
}

export function createPeer(opts: PeerOptions = {}, extra: Pick<RTCPeerConnectionConfig, 'headerExtensions'> = {}): RTCPeerConnection {
  const config: RTCPeerConnectionConfig = {
    iceServers: [],
    iceUseIpv6: false,
    codecs: { video: [useH264({ parameters: H264_FMTP })], audio: [] },
    ...extra,
  };
  if (opts.loopbackOnly) {
    config.iceAdditionalHostAddresses = ['127.0.0.1'];
    config.iceFilterCandidatePair = (pair) => pair.localCandidate.host === '127.0.0.1' && isLoopback(pair.remoteCandidate.host);
  }
  const pc = new RTCPeerConnection(config);
  livePeers.add(pc);
  const manager = (pc as unknown as PeerInternals).secureManager;
  const create = manager.createTransport.bind(manager);
  manager.createTransport = () => {
    const transport = create();
    transport.srtpProfiles = [SRTP_AES128_CM_HMAC_SHA1_80];
    // With no STUN server configured, werift's ICE still asks stun.l.google.com for a
    // server-reflexive candidate: a DNS lookup that fails offline, queues behind the others
    // on libuv's four resolver threads and holds candidate gathering for up to 5 s each.
    transport.iceTransport.connection.stunServer = undefined;
    // werift's DTLS client fails the handshake when a HelloVerifyRequest arrives twice (the
    // server answered a ClientHello the client had retransmitted: a busy peer, a loaded host).
    // A repeated HelloVerifyRequest is a retransmission (RFC 6347 §4.2.1): ignore it.
    const start = transport.start.bind(transport);
    transport.start = () => {
      const started = start(); // creates transport.dtls synchronously
      const socket = transport.dtls;
      if (socket?.connect) {
        const handle = socket.onHandleHandshakes;
        socket.onHandleHandshakes = (assembled) => handle(socket.dtls.flight >= 3 ? assembled.filter((h) => h.msg_type !== 3) : assembled);
      }
      return started;
    };
    return transport;
  };
  return pc;
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1';
}

/** Waits for ICE gathering to finish (we signal non-trickle: one offer, one answer). */
export async function gatheringComplete(pc: RTCPeerConnection, timeoutMs = 5000): Promise<void> {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unSubscribe();
      reject(new Error(`ICE gathering did not complete in ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') {
        clearTimeout(timer);
        sub.unSubscribe();
        resolve();
      }
    });
  });
}

/** Removes non-loopback candidate lines from an SDP (loopback-only mode). */
export function keepLoopbackCandidates(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      const addr = line.split(' ')[4] ?? '';
      return isLoopback(addr);
    })
    .join('\r\n');
}

/** Local description after gathering, filtered for loopback-only mode when asked. */
export function localSdp(pc: RTCPeerConnection, opts: PeerOptions): string {
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('no local description');
  return opts.loopbackOnly ? keepLoopbackCandidates(sdp) : sdp;
}

/** Connection states a peer reports (`RTCPeerConnectionState`). */
export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/**
 * The media path of a connected peer: the SRTP master keys DTLS negotiated and the UDP
 * socket of the nominated ICE pair. Reading them is reaching into werift; everything that
 * does is in this file.
 */
export interface MediaPath {
  /** SRTP for what we send. */
  readonly srtp: SrtpSender;
  /** Sends one datagram on the nominated pair; false (not sent) once consent has expired (RFC 7675) or the pair is gone. */
  send(datagram: Buffer): boolean;
}

function dtlsOf(pc: RTCPeerConnection): DtlsTransportInternals {
  const dtls = (pc as unknown as PeerInternals).dtlsTransports[0];
  if (!dtls?.dtls) throw new Error('the peer has no DTLS association yet');
  if (dtls.dtls.srtp.srtpProfile !== SRTP_AES128_CM_HMAC_SHA1_80) throw new Error(`SRTP profile ${dtls.dtls.srtp.srtpProfile} is not AES_CM_128_HMAC_SHA1_80`);
  return dtls;
}

function sessionKeys(dtls: DtlsTransportInternals): { localKey: Buffer; localSalt: Buffer; remoteKey: Buffer; remoteSalt: Buffer } {
  return dtls.dtls!.extractSessionKeys(16, 14);
}

function openMediaPath(pc: RTCPeerConnection): MediaPath {
  const dtls = dtlsOf(pc);
  const keys = sessionKeys(dtls);
  const connection = dtls.iceTransport.connection;
  return {
    srtp: new SrtpSender(keys.localKey, keys.localSalt),
    send: (datagram) => {
      const pair = connection.nominated;
      if (!pair || !connection.canSendApplicationData()) return false;
      const udp = pair.protocol.transport;
      if (pair.protocol.type === 'stun' && udp) {
        if (udp.closed) return false;
        udp.socket.send(datagram, pair.remoteAddr[1], pair.remoteAddr[0]);
      } else {
        connection.send(datagram).catch(() => undefined); // TURN/TCP pairs: werift's own path
      }
      return true;
    },
  };
}

/** True for RTP (not RTCP) by RFC 7983 / RFC 5761 demultiplexing. */
function isRtp(datagram: Buffer): boolean {
  const b0 = datagram[0];
  if (b0 < 128 || b0 > 191 || datagram.length < 12) return false;
  const pt = datagram[1];
  return pt < 192 || pt > 223;
}

/** Payload type, SSRC and header extension ids a sendonly video peer negotiated. */
export interface SendParameters {
  ssrc: number;
  payloadType: number;
  /** Negotiated id of the playout-delay extension, when the receiver accepted it. */
  playoutDelayId: number | undefined;
}

export interface VideoSendPeerOptions extends PeerOptions {
  /** Offer the playout-delay header extension (browsers accept it; werift receivers ignore it). Default false. */
  playoutDelay?: boolean;
}

/**
 * A sendonly H.264 peer that offers (the gateway's uplink, a viewer of the centre). Its
 * RTP goes out through {@link mediaPath}; werift answers ICE, DTLS and RTCP, and reports
 * key-frame requests and NACKs.
 */
export class VideoSendPeer {
  private closing: Promise<void> | undefined;
  private path: MediaPath | undefined;

  private constructor(
    private readonly pc: RTCPeerConnection,
    private readonly transceiver: RTCRtpTransceiver,
  ) {}

  /** Creates the peer and its offer (non-trickle: every candidate is in it). */
  static async offer(opts: VideoSendPeerOptions): Promise<{ peer: VideoSendPeer; offer: string }> {
    const pc = createPeer(opts, opts.playoutDelay ? { headerExtensions: { video: [{ id: PLAYOUT_DELAY_ID, uri: PLAYOUT_DELAY_URI }], audio: [] } } : {});
    // werift's track only anchors the transceiver in the SDP; nothing is ever written to it.
    const transceiver = pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    const peer = new VideoSendPeer(pc, transceiver);
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gatheringComplete(pc);
      return { peer, offer: localSdp(pc, opts) };
    } catch (err) {
      void peer.close();
      throw err;
    }
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  onState(cb: (state: PeerState) => void): void {
    this.pc.connectionStateChange.subscribe((s) => cb(s as PeerState));
  }

  /** The receiver asked for a key frame (RTCP PLI). */
  onKeyframeRequest(cb: () => void): void {
    this.transceiver.sender.onPictureLossIndication.subscribe(cb);
  }

  /** The receiver reported these sequence numbers missing (RTCP generic NACK, RFC 4585 §6.2.1). */
  onNack(cb: (sequenceNumbers: readonly number[]) => void): void {
    this.transceiver.sender.onGenericNack.subscribe((nack) => cb(nack.lost));
  }

  /** What the answer settled; call once connected. */
  sendParameters(): SendParameters {
    const sender = this.transceiver.sender;
    const codec = sender.codec;
    if (!codec) throw new Error('no codec negotiated');
    const ext = this.transceiver.headerExtensions.find((e) => e.uri === PLAYOUT_DELAY_URI);
    return { ssrc: sender.ssrc, payloadType: codec.payloadType, playoutDelayId: ext?.id };
  }

  /** Our own SRTP and UDP path; available once the peer is connected. */
  mediaPath(): MediaPath {
    this.path ??= openMediaPath(this.pc);
    return this.path;
  }

  /** Idempotent; settles when the peer's sockets are closed. */
  close(): Promise<void> {
    if (!this.closing) {
      this.transceiver.sender.stop();
      this.closing = closePeer(this.pc);
    }
    return this.closing;
  }
}

/** Converts werift's packet to ours (the payload is shared, not copied). */
function toRtpPacket(p: WeriftRtpPacket): RtpPacket {
  const h = p.header;
  return { marker: h.marker, payloadType: h.payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp, ssrc: h.ssrc, csrcs: h.csrc, payload: p.payload };
}

/**
 * A recvonly H.264 peer that answers (the centre's end of a gateway uplink, a benchmark
 * viewer). Packets arrive through werift's receiver (NACKs and receiver reports included),
 * or, after {@link interceptRtp}, straight from the socket.
 */
export class VideoRecvPeer {
  private closing: Promise<void> | undefined;
  private lastSsrc: number | undefined;
  private rtpListener: ((packet: RtpPacket) => void) | undefined;

  private constructor(
    private readonly pc: RTCPeerConnection,
    private readonly transceiver: () => RTCRtpTransceiver | undefined,
  ) {}

  /**
   * Answers an offer; returns the peer and the answer SDP. `dropRtp` (a test hook) loses the
   * incoming RTP packets it returns true for, before anything sees them, as a lossy network would.
   */
  static async answer(offerSdp: string, opts: PeerOptions & { dropRtp?: (sequenceNumber: number) => boolean }): Promise<{ peer: VideoRecvPeer; answer: string }> {
    const pc = createPeer(opts);
    const peer = new VideoRecvPeer(pc, () => pc.getTransceivers()[0]);
    // The track appears while the offer is applied: listen before.
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        peer.lastSsrc = rtp.header.ssrc;
        peer.rtpListener?.(toRtpPacket(rtp));
      });
    });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gatheringComplete(pc);
      const drop = opts.dropRtp;
      if (drop) {
        for (const protocol of (pc as unknown as PeerInternals).dtlsTransports[0]?.iceTransport.connection.protocols ?? []) {
          const udp = protocol.transport;
          if (!udp) continue;
          const werift = udp.onData;
          udp.onData = (data, addr) => {
            if (!(isRtp(data) && drop(data.readUInt16BE(2)))) werift(data, addr);
          };
        }
      }
      return { peer, answer: localSdp(pc, opts) };
    } catch (err) {
      void peer.close();
      throw err;
    }
  }

  onState(cb: (state: PeerState) => void): void {
    this.pc.connectionStateChange.subscribe((s) => cb(s as PeerState));
  }

  /** Every RTP packet werift's receiver passes on (one listener). */
  onRtp(cb: (packet: RtpPacket) => void): void {
    this.rtpListener = cb;
  }

  /** Enlarges the receive buffer of the peer's sockets (capped by the kernel's `net.core.rmem_max`): a key frame arrives as a burst. */
  enlargeReceiveBuffer(bytes: number): void {
    for (const protocol of (this.pc as unknown as PeerInternals).dtlsTransports[0]?.iceTransport.connection.protocols ?? []) {
      protocol.transport?.socket.setRecvBufferSize(bytes);
    }
  }

  /** Asks the sender for a key frame (RTCP PLI); false when nothing has been received yet. */
  requestKeyframe(): Promise<boolean> {
    const receiver = this.transceiver()?.receiver;
    if (!receiver || this.lastSsrc === undefined) return Promise.resolve(false);
    return receiver.sendRtcpPLI(this.lastSsrc).then(() => true);
  }

  /**
   * Takes incoming SRTP away from werift once connected: `onSrtp` gets every protected RTP
   * datagram (werift still handles STUN, DTLS and RTCP). Returns the decryptor of the
   * session, for a light receiver that authenticates only a sample. `receiveBufferBytes`
   * enlarges the socket's receive buffer (capped by the kernel's `net.core.rmem_max`).
   */
  interceptRtp(onSrtp: (datagram: Buffer) => void, receiveBufferBytes = 0): SrtpReceiver {
    const dtls = dtlsOf(this.pc);
    const keys = sessionKeys(dtls);
    if (receiveBufferBytes > 0) this.enlargeReceiveBuffer(receiveBufferBytes);
    for (const protocol of dtls.iceTransport.connection.protocols) {
      const udp = protocol.transport;
      if (!udp) continue;
      const werift = udp.onData;
      udp.onData = (data, addr) => {
        if (isRtp(data)) onSrtp(data);
        else werift(data, addr);
      };
    }
    return new SrtpReceiver(keys.remoteKey, keys.remoteSalt);
  }

  /** Idempotent; settles when the peer's sockets are closed. */
  close(): Promise<void> {
    this.closing ??= closePeer(this.pc);
    return this.closing;
  }
}
