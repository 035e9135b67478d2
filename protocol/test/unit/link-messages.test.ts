import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
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
    expect(() => parseLinkMessage(JSON.stringify({ type: 'stream.start', streamId: '../etc', cameraId: 'c' }))).toThrow(LinkMessageError);
    expect(() => parseLinkMessage('not json')).toThrow(/not JSON/);
    expect(() => parseLinkMessage('x'.repeat(MAX_LINK_MESSAGE_BYTES + 1))).toThrow(/exceeds/);
  });

  it('never throw anything but LinkMessageError on random input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ type: 'hello', ...((typeof v === 'object' && v) || {}) }))), (raw) => {
        try {
          parseLinkMessage(raw);
        } catch (err) {
          expect(err).toBeInstanceOf(LinkMessageError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('carry gateway credentials on the upgrade and parse them back, refusing malformed headers', () => {
    expect(parseGatewayAuth(gatewayAuthValue('gw-1', 's3cr:et'))).toEqual({ gatewayId: 'gw-1', secret: 's3cr:et' });
    expect(parseGatewayAuth(gatewayAuthValue('school:1', 'x.y'))).toEqual({ gatewayId: 'school:1', secret: 'x.y' });
    for (const bad of [undefined, '', 'Basic abc', 'Bearer !!!', `Bearer ${Buffer.from('no-secret').toString('base64url')}`, 'Bearer .abc']) expect(parseGatewayAuth(bad)).toBeUndefined();
  });
});
