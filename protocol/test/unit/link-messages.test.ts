import { describe, expect, it } from 'vitest';
import {
  checkLinkMessage,
  LinkMessageError,
  MAX_LINK_MESSAGE_BYTES,
  encodeLinkMessage,
  gatewayAuthValue,
  linkReason,
  parseGatewayAuth,
  parseLinkMessage,
  type LinkMessage,
} from '../../src/link/link-messages';

const samples: LinkMessage[] = [
  { type: 'hello', gatewayId: 'gw-1', schoolId: 'zs-sokolov', version: '0.1.0', cameras: [{ id: 'cam1', name: 'Vchod', state: 'idle' }] },
  { type: 'camera.state', camera: { id: 'cam1', name: 'Vchod', state: 'failing', reason: 'malformed RTP', width: 640, height: 360 } },
  { type: 'stream.offer', streamId: 's-1', cameraId: 'cam1', sdp: 'v=0\r\n' },
  { type: 'stream.answer', streamId: 's-1', sdp: 'v=0\r\n' },
  { type: 'stream.stop', streamId: 's-1', reason: 'no viewers' },
  { type: 'ping', t: 1 },
  { type: 'events', events: [{ id: '2b1c7a4e-0c55-4a0e-9d7f-5b8f0e0a9a11', seq: 7, cameraId: 'cam1', kind: 'motion', active: true, at: 1_767_950_000_123, cameraTime: '2026-01-09T10:33:20Z' }] },
  { type: 'events.ack', ids: ['2b1c7a4e-0c55-4a0e-9d7f-5b8f0e0a9a11'] },
  { type: 'health', cameras: [{ cameraId: 'cam1', state: 'stalled', online: true, fps: 14.9, bitrateKbps: 2480, lastFrameAt: 1_767_950_000_000, keyframeIntervalMs: 4000, reconnects: 2, events: 'ok' }] },
  { type: 'discover', requestId: 'r1', interface: '10.0.0.2', range: '10.0.0.0/24', username: 'admin', password: 'pw', timeoutMs: 3000 },
  { type: 'discover.result', requestId: 'r1', devices: [{ xaddr: 'http://10.0.0.7/onvif/device_service', endpoint: 'urn:uuid:1', address: '10.0.0.7', name: 'Vchod', hardware: 'SC-200', profiles: [{ token: 'main', name: 'Main', width: 1280, height: 720, fps: 15, encoding: 'H264', rtspUri: 'rtsp://10.0.0.7/main' }] }] },
  { type: 'check', requestId: 'r2', url: 'rtsp://10.0.0.7/main', username: 'admin', password: 'pw' },
  {
    type: 'check.result',
    requestId: 'r2',
    result: {
      url: 'rtsp://10.0.0.7/main', codec: 'H264', profile: 'High', width: 1280, height: 720, fps: 15, gopSeconds: 4, bframes: false, bitrateKbps: 2500, audioCodec: null, keyframeOnDemand: false,
      grade: 'works_with_reasons', reasons: [{ code: 'GOP_LONG', en: 'Key frames 4 s apart.', cs: 'Klíčové snímky po 4 s.' }],
    },
  },
  { type: 'camera.register', requestId: 'r3', camera: { id: 'cam9', name: 'Dvůr', rtsp: { url: 'rtsp://10.0.0.9/stream1', username: 'u', password: 'p' }, transport: 'udp', allowBasicAuth: false } },
  { type: 'camera.registered', requestId: 'r3', camera: { id: 'cam9', name: 'Dvůr', state: 'idle' } },
  { type: 'camera.unregister', requestId: 'r4', cameraId: 'cam9' },
  { type: 'camera.unregistered', requestId: 'r4', cameraId: 'cam9' },
  { type: 'request.failed', requestId: 'r5', code: 'AUTH', message: 'the camera refused the user name or password' },
  { type: 'discover', requestId: 'r6', range: '127.0.0.1-127.0.0.1', multicast: false },
  { type: 'snapshot', requestId: 'r7', cameraId: 'cam1', profile: 'sub' },
  { type: 'snapshot.result', requestId: 'r7', cameraId: 'cam1', part: 0, parts: 2, data: '/9j/4AAQSkZJRg==' },
];

describe('gateway link messages', () => {
  it('round-trip through the shared schema', () => {
    for (const m of samples) expect(parseLinkMessage(encodeLinkMessage(m))).toEqual(m);
  });

  it('cut long reasons to what the schema accepts', () => {
    const long = linkReason('x'.repeat(2000));
    expect(long).toHaveLength(500);
    expect(parseLinkMessage(encodeLinkMessage({ type: 'stream.stop', streamId: 's', reason: long }))).toMatchObject({ type: 'stream.stop' });
    expect(linkReason('short')).toBe('short');
  });

  it('refuse unknown types, unknown fields, bad ids and oversized frames with a typed error', () => {
    expect(() => parseLinkMessage('{"type":"reboot"}')).toThrow(LinkMessageError);
    expect(() => parseLinkMessage(JSON.stringify({ ...samples[5], extra: 1 }))).toThrow(LinkMessageError);
    expect(() => parseLinkMessage(JSON.stringify({ type: 'events', events: [] }))).toThrow(LinkMessageError);
    expect(() => parseLinkMessage(JSON.stringify({ type: 'health', cameras: [{ cameraId: 'c', state: 'melting', fps: 1, bitrateKbps: 1, reconnects: 0, events: 'ok' }] }))).toThrow(LinkMessageError);
    expect(() => parseLinkMessage(JSON.stringify({ type: 'stream.start', streamId: '../etc', cameraId: 'c' }))).toThrow(LinkMessageError);
    expect(() => parseLinkMessage('not json')).toThrow(/not JSON/);
    expect(() => parseLinkMessage('x'.repeat(MAX_LINK_MESSAGE_BYTES + 1))).toThrow(/exceeds/);
  });

  it('are checked before sending with the schema the receiver uses', () => {
    for (const m of samples) expect(() => checkLinkMessage(m)).not.toThrow();
    const tooWide = { type: 'camera.state', camera: { id: 'cam1', name: 'Vchod', state: 'streaming', width: 65_535 } } as const;
    expect(() => checkLinkMessage(tooWide)).toThrow(/outgoing camera.state: \/camera\/width/);
  });

  it('carry gateway credentials on the upgrade and parse them back, refusing malformed headers', () => {
    expect(parseGatewayAuth(gatewayAuthValue('gw-1', 's3cr:et'))).toEqual({ gatewayId: 'gw-1', secret: 's3cr:et' });
    expect(parseGatewayAuth(gatewayAuthValue('school:1', 'x.y'))).toEqual({ gatewayId: 'school:1', secret: 'x.y' });
    for (const bad of [undefined, '', 'Basic abc', 'Bearer !!!', `Bearer ${Buffer.from('no-secret').toString('base64url')}`, 'Bearer .abc']) expect(parseGatewayAuth(bad)).toBeUndefined();
  });
});
