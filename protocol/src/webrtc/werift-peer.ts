import { RTCPeerConnection, type RTCPeerConnectionConfig, useH264 } from 'werift';

/**
 * The one place that configures werift peer connections, for the gateway uplink and
 * the centre's fan-out alike. werift's sharp edges handled here:
 * - its default STUN server is on the internet; offline sites must use `iceServers: []`;
 * - `iceInterfaceAddresses` does not restrict gathering to loopback (it falls back to every
 *   address when the filter matches nothing), so loopback-only mode adds 127.0.0.1 as an extra
 *   host address, filters candidate pairs, and strips other candidates from the SDP.
 */
export interface PeerOptions {
  /** Keep media on 127.0.0.1 (single-host demo and tests). Default false. */
  loopbackOnly?: boolean;
}

export const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';

export function createPeer(opts: PeerOptions = {}): RTCPeerConnection {
  const config: RTCPeerConnectionConfig = {
    iceServers: [],
    iceUseIpv6: false,
    codecs: { video: [useH264({ parameters: H264_FMTP })], audio: [] },
  };
  if (opts.loopbackOnly) {
    config.iceAdditionalHostAddresses = ['127.0.0.1'];
    config.iceFilterCandidatePair = (pair) => pair.localCandidate.host === '127.0.0.1' && isLoopback(pair.remoteCandidate.host);
  }
  return new RTCPeerConnection(config);
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
