/**
 * School IT registers a camera through the centre, as the dashboard's wizard will: discovery by
 * directed WS-Discovery probes on loopback (never multicast outside a namespace), check and grade,
 * register with purpose, legal basis and retention, a snapshot from the camera's ONVIF snapshot
 * URI, removal — against simulated cameras, through the real gateway and the real centre.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraView } from '../../control-center/src/cameras/camera-view';
import type { CheckResult, DiscoveredDevice } from '../../protocol/src/link/link-messages';
import { type LinkedStack, startLinkedStack, waitUntil } from '../support/linked-stack';

let stack: LinkedStack;

beforeAll(async () => {
  // The gateway knows the first camera; the second is for school IT to find and register.
  stack = await startLinkedStack({ cameras: 2, gatewayCameras: 1 });
  await stack.startGateway({ discoveryPort: stack.fleet.discovery.port });
  await waitUntil(() => stack.centre.stats().gatewaysOnline === 1, 'the gateway linked', 20_000);
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

/** Width and height from a baseline JPEG's SOF0 segment. */
function jpegSize(jpeg: Buffer): { width: number; height: number } | undefined {
  for (let i = 2; i + 9 < jpeg.length; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] === 0xc0) return { height: jpeg.readUInt16BE(i + 5), width: jpeg.readUInt16BE(i + 7) };
  }
  return undefined;
}

describe('registering a camera through the centre', () => {
  it('finds, checks, registers, snapshots and removes a simulated camera through the school’s gateway', async () => {
    const it = await stack.signIn('it');
    const newcomer = stack.sims[1];

    const found = await it.post<{ gatewayId: string; devices: DiscoveredDevice[] }>(`/api/schools/${stack.schoolId}/discover`, {
      range: '127.0.0.1-127.0.0.1',
      multicast: false,
      username: newcomer.username,
      password: newcomer.password,
      timeoutMs: 1500,
    });
    expect(found.status).toBe(200);
    expect(found.body.gatewayId).toBe(stack.gatewayId);
    expect(found.body.devices.map((d) => d.xaddr).sort()).toEqual(stack.sims.map((s) => s.onvif).sort());
    const device = found.body.devices.find((d) => d.xaddr === newcomer.onvif)!;
    expect(device.name).toBe(newcomer.name);
    expect(device.profiles.map((p) => p.encoding)).toContain('H264');

    const refused = await it.post<{ error: string }>(`/api/schools/${stack.schoolId}/check`, { url: newcomer.onvif, username: newcomer.username, password: 'not-the-password' });
    expect([refused.status, refused.body.error]).toEqual([422, 'CAMERA_AUTH']);
    const checked = await it.post<{ result: CheckResult }>(`/api/schools/${stack.schoolId}/check`, { url: newcomer.onvif, username: newcomer.username, password: newcomer.password });
    expect(checked.status).toBe(200);
    expect(checked.body.result).toMatchObject({ codec: 'H264', width: 640, height: 360, keyframeOnDemand: true });
    expect(['ready', 'works_with_reasons']).toContain(checked.body.result.grade);

    const registered = await it.post<{ camera: CameraView }>(`/api/schools/${stack.schoolId}/cameras`, {
      name: newcomer.name,
      onvif: { xaddr: newcomer.onvif, username: newcomer.username, password: newcomer.password },
      purpose: 'Dohled nad vjezdem do areálu školy',
      legalBasis: 'čl. 6 odst. 1 písm. e) GDPR',
      retentionHours: 72,
    });
    expect(registered.status).toBe(201);
    const cameraId = registered.body.camera.id;
    expect(cameraId.startsWith(`${stack.gatewayId}:`)).toBe(true);
    expect(registered.body.camera.registration).toMatchObject({ retentionHours: 72, registeredBy: 'it-school', source: newcomer.onvif });
    const localId = cameraId.slice(stack.gatewayId.length + 1);
    expect(stack.gateway!.registry.get(localId)?.onvif?.password).toBe(newcomer.password);
    // The gateway runs it: its health reaches the centre.
    const listed = async (): Promise<CameraView | undefined> => (await it.get<{ cameras: CameraView[] }>('/api/cameras')).body.cameras.find((c) => c.id === cameraId);
    await waitUntil(async () => (await listed())?.health?.events === 'ok', 'the new camera’s health', 20_000, 100);

    const snap = await fetch(`${stack.centre.url}/api/cameras/${encodeURIComponent(cameraId)}/snapshot`, { headers: { cookie: it.cookie } });
    expect(snap.status).toBe(200);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await snap.arrayBuffer());
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(jpeg.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    expect(jpegSize(jpeg)).toEqual({ width: 640, height: 360 });

    const removed = await it.delete(`/api/cameras/${encodeURIComponent(cameraId)}`);
    expect(removed.status).toBe(204);
    expect(stack.gateway!.registry.get(localId)).toBeUndefined();
    await waitUntil(async () => (await listed()) === undefined, 'the camera gone from the list');
    expect((await it.get(`/api/cameras/${encodeURIComponent(cameraId)}`)).status).toBe(404);
  }, 120_000);
});
