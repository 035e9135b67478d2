import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CentreClient } from '../../control-center/test/support/api-client';
import { type RtspClient, openRtspVideo } from '../../protocol/src/rtsp/rtsp-client';
import { type InProcessStack, startInProcessStack } from '../support/in-process-stack';
import { PoliceViewer, type ViewerTile } from '../support/police-viewer';

/**
 * Overlapping grants, on a real centre (SQLite file, simulator, gateway, real media): two active
 * grants give one camera to the same force. A police view — WebRTC, MSE — runs on when one of
 * them ends while the other still covers the camera (audited with both grants), and is cut
 * within a second when the last one ends. An RTSP re-export session lives by the credentials
 * of the grant it authenticated with: it ends with that grant, whatever else covers the camera.
 */
interface Grant {
  id: string;
  caseRef: string;
  rtsp: { cameraId: string; url: string }[];
}
interface AuditEntry {
  kind: string;
  actor: string;
  cameraId: string | null;
  detail: Record<string, unknown>;
}

let stack: InProcessStack;
let operator: CentreClient;
let auditor: CentreClient;
let police: CentreClient;
let camera: string;
const opened: { viewers: PoliceViewer[]; rtsp: RtspClient[] } = { viewers: [], rtsp: [] };

beforeAll(async () => {
  stack = await startInProcessStack({ cameras: 1, gopSeconds: 1, centre: { rtspExport: { port: 0 } } });
  camera = stack.centreId(stack.fleet.info().cameras[0].id);
  operator = await CentreClient.signIn(stack.centre.url, stack.accounts.operator.username, stack.accounts.operator.password);
  auditor = await CentreClient.signIn(stack.centre.url, stack.accounts.auditor.username, stack.accounts.auditor.password);
  police = await CentreClient.signIn(stack.centre.url, stack.accounts.police.username, stack.accounts.police.password);
}, 60_000);

afterEach(async () => {
  for (const v of opened.viewers.splice(0)) await v.close();
  for (const c of opened.rtsp.splice(0)) await c.close();
  // Every grant a test left active ends, so the next test starts with none.
  const { grants } = (await operator.get<{ grants: { id: string; state: string }[] }>('/api/grants')).body;
  for (const g of grants.filter((x) => x.state === 'active')) await operator.post(`/api/grants/${g.id}/revoke`);
  await expect.poll(() => stack.centre.liveViews.size, { timeout: 5000 }).toBe(0);
});

afterAll(async () => {
  await stack?.close();
});

async function grant(caseRef: string, minutes: number): Promise<Grant> {
  const res = await operator.post<Grant>('/api/grants', { forceId: stack.accounts.police.org, cameraIds: [camera], reason: 'Vloupání do kabinetu', caseRef, legalBasis: '§ 8 zák. 553/1991 Sb.', minutes });
  expect(res.status).toBe(201);
  return res.body;
}

async function revoke(g: Grant): Promise<number> {
  const t0 = performance.now();
  expect((await operator.post(`/api/grants/${g.id}/revoke`)).status).toBe(200);
  return t0;
}

/** A playing RTSP re-export session with a grant's credentials; `closed` settles when the centre ends it. */
async function rtsp(g: Grant): Promise<{ client: RtspClient; packets: () => number; closed: Promise<number> }> {
  const { client } = await openRtspVideo(g.rtsp[0].url);
  opened.rtsp.push(client);
  let n = 0;
  client.on('rtp', () => n++);
  const closed = new Promise<number>((r) => client.once('close', () => r(performance.now())));
  await expect.poll(() => n, { timeout: 10_000 }).toBeGreaterThan(0);
  return { client, packets: () => n, closed };
}

async function policeViews(): Promise<{ web: ViewerTile; mse: ViewerTile }> {
  const v = await PoliceViewer.open(stack.centre.url, police.cookie);
  opened.viewers.push(v);
  const web = await v.watchWebRtc('w', camera);
  const mse = await v.watchMse('m', camera);
  await Promise.all([web.flowing, mse.flowing]);
  return { web, mse };
}

/** Media keeps arriving on every tile and RTSP session given: each receives more after this call. */
async function stillPlaying(tiles: ViewerTile[], sessions: { packets: () => number }[]): Promise<void> {
  const before = [...tiles.map((t) => t.received), ...sessions.map((s) => s.packets())];
  await expect.poll(() => [...tiles.map((t) => t.received), ...sessions.map((s) => s.packets())].every((n, i) => n > before[i] + 5), { timeout: 5000 }).toBe(true);
  for (const t of tiles) expect(t.isEnded).toBe(false);
}

const audit = async (kind: string): Promise<AuditEntry[]> => (await auditor.get<{ entries: AuditEntry[] }>(`/api/audit?kind=${kind}&limit=200`)).body.entries;
const basisOf = (transport: string): unknown => stack.centre.liveViews.list().find((v) => v.transport === transport)?.basis;

describe('overlapping police grants', () => {
  it('a view runs on under the other grant when the grant it started under is revoked, and is cut within 1 s when that one ends too', async () => {
    const first = await grant('MP-KV-2026/301', 30);
    const { web, mse } = await policeViews(); // under the only grant there is
    expect(basisOf('webrtc')).toEqual({ kind: 'grant', grantId: first.id, caseRef: 'MP-KV-2026/301' });
    const second = await grant('MP-KV-2026/302', 60);
    const rtspFirst = await rtsp(first);
    const rtspSecond = await rtsp(second);

    const t0 = await revoke(first);
    // The RTSP session authenticated with the ended grant's credentials ends with them.
    expect((await rtspFirst.closed) - t0).toBeLessThan(1000);
    await stillPlaying([web, mse], [rtspSecond]);
    for (const t of ['webrtc', 'mse']) expect(basisOf(t)).toEqual({ kind: 'grant', grantId: second.id, caseRef: 'MP-KV-2026/302' });
    const continued = (await audit('view.continue')).filter((e) => e.detail.endedGrantId === first.id);
    expect(continued).toHaveLength(2);
    for (const e of continued) {
      expect(e).toMatchObject({ actor: 'police', cameraId: camera, detail: { endedCaseRef: 'MP-KV-2026/301', grantEnd: 'revoked', grantId: second.id, caseRef: 'MP-KV-2026/302' } });
    }
    expect((await audit('grant.revoke')).find((e) => e.detail.grantId === first.id)?.detail).toMatchObject({ caseRef: 'MP-KV-2026/301', sessionsCut: 1, sessionsContinued: 2 });

    const t1 = await revoke(second);
    const [webEnd, mseEnd, rtspEnd] = await Promise.all([web.ended, mse.ended, rtspSecond.closed]);
    for (const at of [webEnd.at, mseEnd.at, rtspEnd]) expect(at - t1).toBeLessThan(1000);
    expect(webEnd.cause).toEqual({ kind: 'access_revoked', grantId: second.id, grantEnd: 'revoked' });
    expect(stack.centre.liveViews.size).toBe(0);
    const stops = (await audit('view.stop')).filter((e) => e.detail.grantId === second.id && e.detail.cause === 'access_revoked');
    // The WebRTC and MSE views name the grant they continued from; the second grant's own RTSP session none.
    expect(stops.map((e) => JSON.stringify(e.detail.continuedFrom ?? null)).sort()).toEqual([JSON.stringify([first.id]), JSON.stringify([first.id]), 'null']);
    expect((await audit('grant.revoke')).find((e) => e.detail.grantId === second.id)?.detail).toMatchObject({ caseRef: 'MP-KV-2026/302', sessionsCut: 3 });
  });

  it('revoking the shorter grant leaves views under the longer one untouched; ending the longer one then cuts them', async () => {
    const shorter = await grant('MP-KV-2026/303', 15);
    const longer = await grant('MP-KV-2026/304', 90);
    const { web, mse } = await policeViews(); // a new view takes the longest-lived grant
    expect(basisOf('mse')).toEqual({ kind: 'grant', grantId: longer.id, caseRef: 'MP-KV-2026/304' });

    await revoke(shorter);
    await stillPlaying([web, mse], []);
    expect((await audit('view.continue')).some((e) => e.detail.endedGrantId === shorter.id)).toBe(false);
    expect((await audit('grant.revoke')).find((e) => e.detail.grantId === shorter.id)?.detail).toMatchObject({ sessionsCut: 0 });

    const t0 = await revoke(longer);
    const ends = await Promise.all([web.ended, mse.ended]);
    for (const e of ends) {
      expect(e.at - t0).toBeLessThan(1000);
      expect(e.cause).toEqual({ kind: 'access_revoked', grantId: longer.id, grantEnd: 'revoked' });
    }
  });
});
