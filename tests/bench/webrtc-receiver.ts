import { createPeer, gatheringComplete, localSdp } from '../../protocol/src/webrtc/werift-peer';

/**
 * A bench child process (`fork`) that plays the centre's receiving end of gateway uplinks: it
 * answers WebRTC offers (werift, loopback only) and counts what arrives. Several run at once so
 * that no single event loop, busy decrypting SRTP, misses ICE consent checks and fails peers the
 * gateway is serving well.
 */
type In = { type: 'offer'; cameraId: string; streamId: string; sdp: string } | { type: 'report' } | { type: 'close' };

const peers: ReturnType<typeof createPeer>[] = [];
const counts = new Map<string, { packets: number; bytes: number; state: string }>();

process.on('message', (m: In) => {
  void (async () => {
    switch (m.type) {
      case 'offer': {
        const pc = createPeer({ loopbackOnly: true });
        peers.push(pc);
        const c = { packets: 0, bytes: 0, state: 'new' };
        counts.set(m.cameraId, c);
        pc.connectionStateChange.subscribe((s) => (c.state = s));
        pc.onTrack.subscribe((track) =>
          track.onReceiveRtp.subscribe((rtp) => {
            c.packets++;
            c.bytes += rtp.payload.length;
          }),
        );
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        await gatheringComplete(pc);
        process.send!({ type: 'answer', streamId: m.streamId, sdp: localSdp(pc, { loopbackOnly: true }) });
        return;
      }
      case 'report':
        process.send!({ type: 'report', counts: Object.fromEntries(counts) });
        return;
      case 'close':
        await Promise.all(peers.map((p) => p.close()));
        process.exit(0);
        return;
    }
  })();
});

process.on('disconnect', () => process.exit(0));
