import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SNAPSHOT_PART_BYTES, type LinkMessage } from '@schoolcam/protocol/link/link-messages';
import { AppError } from '../../src/errors';
import { GatewayRequests } from '../../src/link/gateway-requests';
import { silent } from './fakes';

/** The link as plain data: who is online, what was sent. */
class FakeLink {
  online = new Set(['gw-sok', 'gw-cheb']);
  sent: { gatewayId: string; msg: LinkMessage }[] = [];
  isOnline(id: string): boolean {
    return this.online.has(id);
  }
  send(gatewayId: string, msg: LinkMessage): boolean {
    if (!this.online.has(gatewayId)) return false;
    this.sent.push({ gatewayId, msg });
    return true;
  }
  last(): LinkMessage & { requestId: string } {
    return this.sent.at(-1)!.msg as LinkMessage & { requestId: string };
  }
}

let link: FakeLink;
let requests: GatewayRequests;
let n: number;

beforeEach(() => {
  link = new FakeLink();
  n = 0;
  requests = new GatewayRequests(link, silent, { timeoutsMs: { check: 1000 }, maxPendingPerGateway: 2, newId: () => `r${++n}` });
});
afterEach(() => {
  requests.close();
  vi.useRealTimers();
});

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof AppError ? `${err.code} ${err.status}` : String(err);
  }
};

describe('forwarding requests to gateways', () => {
  it('sends each request with a fresh id and settles it with the matching reply of the gateway asked', async () => {
    const p = requests.ask('gw-sok', { type: 'camera.unregister', cameraId: 'vchod' });
    expect(link.last()).toEqual({ type: 'camera.unregister', requestId: 'r1', cameraId: 'vchod' });
    // The same request id answered by another gateway does not count.
    requests.onReply('gw-cheb', { type: 'camera.unregistered', requestId: 'r1', cameraId: 'vchod' });
    expect(requests.size).toBe(1);
    requests.onReply('gw-sok', { type: 'camera.unregistered', requestId: 'r1', cameraId: 'vchod' });
    await expect(p).resolves.toEqual({ type: 'camera.unregistered', requestId: 'r1', cameraId: 'vchod' });
    expect(requests.size).toBe(0);
  });

  it('turns each typed refusal of the gateway into the centre’s typed error', async () => {
    const cases = [
      ['AUTH', 'CAMERA_AUTH 422'],
      ['UNREACHABLE', 'CAMERA_UNREACHABLE 502'],
      ['TIMEOUT', 'CAMERA_TIMEOUT 504'],
      ['UNSUPPORTED', 'CAMERA_UNSUPPORTED 422'],
      ['BUSY', 'GATEWAY_BUSY 503'],
      ['NOT_FOUND', 'NOT_FOUND 404'],
      ['CONFLICT', 'CONFLICT 409'],
      ['BAD_REQUEST', 'BAD_REQUEST 400'],
      ['INTERNAL', 'GATEWAY_FAILED 502'],
    ] as const;
    for (const [code, expected] of cases) {
      const p = requests.ask('gw-sok', { type: 'check', url: 'rtsp://10.0.0.9/x' });
      requests.onReply('gw-sok', { type: 'request.failed', requestId: link.last().requestId, code, message: 'why, in words' });
      expect(await codeOf(p)).toBe(expected);
    }
  });

  it('fails at once for an offline gateway, and with GATEWAY_OFFLINE when the link drops while waiting', async () => {
    link.online.delete('gw-cheb');
    expect(await codeOf(requests.ask('gw-cheb', { type: 'discover' }))).toBe('GATEWAY_OFFLINE 503');
    const p = requests.ask('gw-sok', { type: 'discover', range: '10.0.0.0/24' });
    requests.gatewayGone('gw-sok');
    expect(await codeOf(p)).toBe('GATEWAY_OFFLINE 503');
  });

  it('times out with GATEWAY_TIMEOUT, and a late reply is ignored', async () => {
    vi.useFakeTimers();
    const p = requests.ask('gw-sok', { type: 'check', url: 'rtsp://10.0.0.9/x' });
    const code = codeOf(p);
    vi.advanceTimersByTime(1000);
    expect(await code).toBe('GATEWAY_TIMEOUT 504');
    requests.onReply('gw-sok', { type: 'request.failed', requestId: 'r1', code: 'AUTH', message: 'late' });
    expect(requests.size).toBe(0);
  });

  it('refuses more waiting requests per gateway than allowed with GATEWAY_BUSY, and a request the gateway’s schema would refuse with BAD_REQUEST', async () => {
    void requests.ask('gw-sok', { type: 'discover' }).catch(() => undefined);
    void requests.ask('gw-sok', { type: 'discover' }).catch(() => undefined);
    expect(await codeOf(requests.ask('gw-sok', { type: 'discover' }))).toBe('GATEWAY_BUSY 503');
    expect(await codeOf(requests.ask('gw-cheb', { type: 'camera.unregister', cameraId: '../etc/passwd' }))).toBe('BAD_REQUEST 400');
    expect(link.sent.filter((s) => s.gatewayId === 'gw-cheb')).toEqual([]);
  });

  it('puts a snapshot together from its parts in order; parts out of order or a reply of the wrong kind fail it', async () => {
    const jpeg = Buffer.alloc(SNAPSHOT_PART_BYTES + 10, 3);
    const p = requests.ask('gw-sok', { type: 'snapshot', cameraId: 'vchod' });
    const id = link.last().requestId;
    requests.onReply('gw-sok', { type: 'snapshot.result', requestId: id, cameraId: 'vchod', part: 0, parts: 2, data: jpeg.subarray(0, SNAPSHOT_PART_BYTES).toString('base64') });
    requests.onReply('gw-sok', { type: 'snapshot.result', requestId: id, cameraId: 'vchod', part: 1, parts: 2, data: jpeg.subarray(SNAPSHOT_PART_BYTES).toString('base64') });
    expect((await p).equals(jpeg)).toBe(true);

    const q = requests.ask('gw-sok', { type: 'snapshot', cameraId: 'vchod' });
    requests.onReply('gw-sok', { type: 'snapshot.result', requestId: link.last().requestId, cameraId: 'vchod', part: 1, parts: 2, data: 'AAAA' });
    expect(await codeOf(q)).toBe('GATEWAY_FAILED 502');
    const r = requests.ask('gw-sok', { type: 'snapshot', cameraId: 'vchod' });
    requests.onReply('gw-sok', { type: 'camera.unregistered', requestId: link.last().requestId, cameraId: 'vchod' });
    expect(await codeOf(r)).toBe('GATEWAY_FAILED 502');
  });
});
