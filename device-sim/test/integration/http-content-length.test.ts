/**
 * The simulator answers like camera firmware on the wire: every HTTP reply — ONVIF SOAP (results,
 * faults, 401 challenges, refusals), snapshots and the control API — carries Content-Length and is
 * never chunked. Checked on the raw bytes of each reply, as a gSOAP-style client that refuses
 * `Transfer-Encoding: chunked` would read them.
 */
import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DigestClientState, parseWwwAuthenticate } from '@schoolcam/protocol/rtsp/digest-auth';
import type { SimCameraInfo } from '../../src/camera/sim-camera';
import { Fleet } from '../../src/fleet';
import { generatedFleet } from '../../src/fleet-config';

interface WireReply {
  status: number;
  head: string;
  headers: Map<string, string[]>;
  body: Buffer;
}

/** One HTTP/1.1 request on a fresh socket; the reply is read raw until the server closes. */
function raw(url: string, method: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<WireReply> {
  const u = new URL(url);
  const body = Buffer.from(opts.body ?? '', 'utf8');
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Connection: close'];
  for (const [k, v] of Object.entries(opts.headers ?? {})) lines.push(`${k}: ${v}`);
  if (body.length > 0 || method === 'POST') lines.push(`Content-Length: ${body.length}`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(Number(u.port), u.hostname, () => s.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body])));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no complete header in ${JSON.stringify(all.toString('latin1').slice(0, 200))}`));
      const head = all.subarray(0, split).toString('latin1');
      const headers = new Map<string, string[]>();
      for (const line of head.split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
      }
      resolve({ status: Number(head.split(' ')[1]), head, headers, body: all.subarray(split + 4) });
    });
  });
}

/** What a client that refuses chunked replies checks: one Content-Length, equal to the body it then reads, and no Transfer-Encoding. */
function expectFramedByLength(r: WireReply, method = 'GET'): void {
  expect(r.headers.has('transfer-encoding'), r.head).toBe(false);
  const lengths = r.headers.get('content-length') ?? [];
  expect(lengths, r.head).toHaveLength(1);
  expect(Number(lengths[0])).toBe(method === 'HEAD' ? Number(lengths[0]) : r.body.length);
}

const soap = (op: string, ns = 'http://www.onvif.org/ver10/device/wsdl'): string =>
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><${op} xmlns="${ns}"/></s:Body></s:Envelope>`;
const SOAP_HEADERS = { 'Content-Type': 'application/soap+xml; charset=utf-8' };

let fleet: Fleet;
let cam: SimCameraInfo;
let listUrl: string;

beforeAll(async () => {
  fleet = await Fleet.create({ spec: generatedFleet(1, 1), discoveryInterface: 'none', logger: pino({ level: 'silent' }) });
  cam = fleet.info().cameras[0];
  listUrl = fleet.controlUrl;
});
afterAll(async () => {
  await fleet?.close();
});

describe('every HTTP reply of the simulator has Content-Length, never chunked', () => {
  it('ONVIF SOAP: results, faults, the Digest challenge and HTTP refusals', async () => {
    const device = cam.onvif;
    const media = device.replace('device_service', 'media_service');
    const cases: [string, WireReply, number][] = [
      ['GetSystemDateAndTime', await raw(device, 'POST', { body: soap('GetSystemDateAndTime'), headers: SOAP_HEADERS }), 200],
      ['GetProfiles without credentials (fault)', await raw(media, 'POST', { body: soap('GetProfiles', 'http://www.onvif.org/ver10/media/wsdl'), headers: SOAP_HEADERS }), 400],
      ['not XML (fault)', await raw(device, 'POST', { body: '<broken', headers: SOAP_HEADERS }), 400],
      ['GET', await raw(device, 'GET'), 405],
      ['unknown path', await raw(device.replace('device_service', 'nothing'), 'POST', { body: soap('GetScopes') }), 404],
      ['wrong content type', await raw(device, 'POST', { body: soap('GetScopes'), headers: { 'Content-Type': 'image/png' } }), 415],
      ['oversized body', await raw(device, 'POST', { body: 'x'.repeat(300 * 1024), headers: SOAP_HEADERS }), 413],
    ];
    for (const [what, r, status] of cases) {
      expect(r.status, what).toBe(status);
      expectFramedByLength(r);
    }

    await fetch(`${cam.control}/faults/auth`, { method: 'POST', body: '{"mode":"digest-only"}' });
    const challenged = await raw(media, 'POST', { body: soap('GetProfiles', 'http://www.onvif.org/ver10/media/wsdl'), headers: SOAP_HEADERS });
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('www-authenticate')?.[0]).toMatch(/^Digest /);
    expectFramedByLength(challenged);

    await fetch(`${cam.control}/faults/malformed`, { method: 'POST', body: '{"target":"soap"}' });
    const truncated = await raw(device, 'POST', { body: soap('GetSystemDateAndTime'), headers: SOAP_HEADERS });
    expect(truncated.status).toBe(200);
    expectFramedByLength(truncated);
    await fetch(`${cam.control}/faults`, { method: 'DELETE' });
  });

  it('snapshots: the JPEG, the Digest challenge, HEAD and refusals', async () => {
    const challenge = await raw(cam.snapshot, 'GET');
    expect(challenge.status).toBe(401);
    expectFramedByLength(challenge);
    const digest = DigestClientState.fromChallenges(parseWwwAuthenticate(challenge.headers.get('www-authenticate') ?? []), cam.username, cam.password)!;
    const path = new URL(cam.snapshot).pathname;
    const jpeg = await raw(cam.snapshot, 'GET', { headers: { Authorization: digest.authorization('GET', path) } });
    expect(jpeg.status).toBe(200);
    expect(jpeg.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expectFramedByLength(jpeg);
    const head = await raw(cam.snapshot, 'HEAD', { headers: { Authorization: digest.authorization('HEAD', path) } });
    expect(head.status).toBe(200);
    expectFramedByLength(head, 'HEAD');
    const missing = await raw(cam.snapshot.replace('main.jpg', 'none.jpg'), 'GET', { headers: { Authorization: digest.authorization('GET', '/snapshot/none.jpg') } });
    expect(missing.status).toBe(404);
    expectFramedByLength(missing);
    const post = await raw(cam.snapshot, 'POST');
    expect(post.status).toBe(405);
    expectFramedByLength(post);
  });

  it('the control API, including GET / which lists the cameras as `npm run sim -- --json` prints them', async () => {
    const list = await raw(`${listUrl}/`, 'GET');
    expect(list.status).toBe(200);
    expectFramedByLength(list);
    expect(JSON.parse(list.body.toString())).toEqual(fleet.info());
    for (const [url, method, body, status] of [
      [`${listUrl}/cameras`, 'GET', undefined, 200],
      [`${cam.control}/state`, 'GET', undefined, 200],
      [`${cam.control}/events/motion`, 'POST', '{"state":false}', 200],
      [`${cam.control}/faults/nonsense`, 'POST', '{}', 404],
      [`${cam.control}/faults/stall`, 'POST', 'not json', 400],
    ] as const) {
      const r = await raw(url, method, body === undefined ? {} : { body });
      expect(r.status, `${method} ${url}`).toBe(status);
      expectFramedByLength(r);
    }
  });
});
