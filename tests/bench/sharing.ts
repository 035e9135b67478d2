import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { AccessExtension, ExtraAccess } from '../../control-center/src/access/policy';
import { CentreClient } from '../../control-center/test/support/api-client';
import { MemoryRtspGrants } from '../../control-center/test/support/memory-rtsp-grants';
import { decodeMseFrame } from '../../control-center/src/viewer/mse-frame';
import { type RtspClient, openRtspVideo } from '../../protocol/src/rtsp/rtsp-client';
import { launchChromium } from '../support/chromium';
import { startInProcessStack } from '../support/in-process-stack';
import { type TileStats, percentile, signInPage, tileStats, waitForTiles } from '../support/page-stats';
import { createUdpBlockedNetns, tcpRelay } from '../support/udp-blocked-netns';

/**
 * `npm run bench:sharing` (skeleton: the media side of police sharing). Simulator, gateway and
 * centre in this process, so revocations are timed where they are made:
 * - revoke-to-cut: `--grants` grants, each carrying one RTSP re-export session (our RTSP client,
 *   playing) and one MSE session (a police account's viewer socket, fMP4 flowing). Each grant is
 *   revoked in turn (`AccessRevocations.revoke({ grant })`, its credentials gone); the time until
 *   the last of its sessions is seen closed by its client is one sample. WebRTC sessions and
 *   emergency-to-first-frame need the grant module and are not measured here yet.
 * - MSE glass-to-glass: Chromium in a namespace whose UDP is blackholed falls back to MSE; the
 *   capture-time barcode of each painted frame gives the latency over `--seconds`.
 * The last line is one JSON object, also written to bench-results/sharing.json.
 */
const { values } = parseArgs({
  options: {
    grants: { type: 'string', default: '100' },
    cameras: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
  },
});
const GRANTS = Number(values.grants);
const CAMERAS = Number(values.cameras);
const SECONDS = Number(values.seconds);

const grants = new MemoryRtspGrants();
const stack = await startInProcessStack({
  cameras: CAMERAS,
  lingerMs: 5000,
  centre: { rtspExport: { port: 0 }, limits: { viewersPerUser: 10_000, viewersTotal: 10_000, tilesPerSocket: 256 } },
  rtspGrants: grants,
});
const cams = stack.fleet.info().cameras.map((c) => stack.centreId(c.id));

/**
 * Police access through grants for the MSE sessions, as the grant module will give it: while a
 * session opens, exactly its grant is active for the police account, so each view carries its own
 * grant as basis (the policy takes the first grant covering a camera).
 */
let opening: { grantId: string; cameraId: string } | undefined;
const bench: AccessExtension = {
  extraAccess: (p): ExtraAccess[] =>
    p.role === 'police' && opening
      ? [{ basis: { kind: 'grant', grantId: opening.grantId }, schoolIds: new Set(), cameraIds: new Set([opening.cameraId]), permissions: new Set(['camera.read', 'camera.view']) }]
      : [],
};
stack.centre.policy.extend(bench);

interface Session {
  grantId: string;
  rtsp: RtspClient;
  rtspClosed: Promise<number>;
  mseEnded: Promise<number>;
}

const police = await CentreClient.signIn(stack.centre.url, stack.accounts.police.username, stack.accounts.police.password);
const ws = new WebSocket(`${stack.centre.url.replace(/^http/, 'ws')}/api/view`, { headers: { cookie: police.cookie, origin: stack.centre.url } });
await new Promise<void>((resolve, reject) => {
  ws.once('open', () => resolve());
  ws.once('error', reject);
});
const firstFrame = new Map<string, () => void>();
const ended = new Map<string, (at: number) => void>();
ws.on('message', (data: Buffer, binary: boolean) => {
  if (binary) {
    const f = decodeMseFrame(new Uint8Array(data));
    if (f) firstFrame.get(f.tile)?.();
    return;
  }
  const ev = JSON.parse(data.toString()) as { type: string; tile?: string; message?: string };
  if (ev.type === 'ended' && ev.tile) ended.get(ev.tile)?.(performance.now());
  if (ev.type === 'error') console.error(`viewer error: ${ev.message}`);
});

const sessions: Session[] = [];
for (let i = 0; i < GRANTS; i++) {
  const grantId = `bench-${i}`;
  const cameraId = cams[i % cams.length];
  const creds = grants.issue({ grantId, cameraIds: [cameraId] });
  const url = stack.centre.rtspExport!.url(grantId, cameraId).replace('rtsp://', `rtsp://${creds.username}:${encodeURIComponent(creds.password)}@`);
  const { client } = await openRtspVideo(url);
  await new Promise<void>((r) => client.once('rtp', () => r()));
  const rtspClosed = new Promise<number>((r) => client.once('close', () => r(performance.now())));
  const tile = `g${i}`;
  opening = { grantId, cameraId };
  const flowing = new Promise<void>((r) => firstFrame.set(tile, r));
  const mseEnded = new Promise<number>((r) => ended.set(tile, r));
  ws.send(JSON.stringify({ type: 'watch', tile, cameraId, transport: 'mse' }));
  await flowing;
  firstFrame.delete(tile);
  opening = undefined;
  sessions.push({ grantId, rtsp: client, rtspClosed, mseEnded });
}
console.log(`${GRANTS} grants, each with a playing RTSP session and an MSE session; live views: ${stack.centre.liveViews.size}`);

const cuts: number[] = [];
const rtspCuts: number[] = [];
const mseCuts: number[] = [];
for (const s of sessions) {
  const at = performance.now();
  grants.end(s.grantId);
  stack.centre.revocations.revoke({ grant: s.grantId }, { kind: 'access_revoked', grantId: s.grantId });
  const [r, m] = await Promise.all([s.rtspClosed, s.mseEnded]);
  rtspCuts.push(r - at);
  mseCuts.push(m - at);
  cuts.push(Math.max(r, m) - at);
}
ws.close();
const left = stack.centre.liveViews.size;
await stack.close();

// MSE glass-to-glass: a browser whose UDP is blocked falls back to MSE.
const lan = await createUdpBlockedNetns();
const g2gStack = await startInProcessStack({ cameras: 1, lingerMs: 2000 });
const relay = await tcpRelay(lan.hostAddress, new URL(g2gStack.centre.url));
const browser = await launchChromium({ netns: lan.ns });
let latencies: number[] = [];
let transport = '';
try {
  const page = await browser.context.newPage();
  // The live wall, reading the capture-time barcode (`diag=1`).
  await signInPage(page, `${relay.url}/?diag=1#/live`, g2gStack.accounts.operator);
  await waitForTiles(page, (ts) => ts.length === 1 && ts[0].transport === 'mse' && ts[0].barcodes > 0, 60_000, 'the MSE fallback to play');
  const start = (await tileStats(page))[0].latencies.length;
  await page.waitForTimeout(SECONDS * 1000);
  const tile: TileStats = (await tileStats(page))[0];
  latencies = tile.latencies.slice(start);
  transport = tile.transport;
} finally {
  await browser.close();
  await relay.close();
  await g2gStack.close();
  await lan.close();
}

const round = (x: number): number => Math.round(x * 10) / 10;
const result = {
  bench: 'sharing',
  grants: GRANTS,
  cameras: CAMERAS,
  revoke_to_cut_p50_ms: round(percentile(cuts, 50)),
  revoke_to_cut_p99_ms: round(percentile(cuts, 99)),
  revoke_to_cut_max_ms: round(Math.max(...cuts)),
  rtsp_cut_p50_ms: round(percentile(rtspCuts, 50)),
  rtsp_cut_p99_ms: round(percentile(rtspCuts, 99)),
  mse_cut_p50_ms: round(percentile(mseCuts, 50)),
  mse_cut_p99_ms: round(percentile(mseCuts, 99)),
  live_views_left_after_revokes: left,
  mse_transport: transport,
  mse_g2g_samples: latencies.length,
  mse_g2g_p50_ms: round(percentile(latencies, 50)),
  mse_g2g_p95_ms: round(percentile(latencies, 95)),
  mse_g2g_max_ms: round(Math.max(...latencies)),
  not_measured: ['webrtc revoke-to-cut (needs grant-based WebRTC views from the grant module)', 'emergency to first police frame (needs the grant module)'],
};
console.log('| what | p50 ms | p99/p95 ms |');
console.log(`| revoke → last session closed (RTSP + MSE per grant, ${GRANTS} grants) | ${result.revoke_to_cut_p50_ms} | p99 ${result.revoke_to_cut_p99_ms} |`);
console.log(`| revoke → RTSP client sees close | ${result.rtsp_cut_p50_ms} | p99 ${result.rtsp_cut_p99_ms} |`);
console.log(`| revoke → MSE tile told 'ended' | ${result.mse_cut_p50_ms} | p99 ${result.mse_cut_p99_ms} |`);
console.log(`| MSE fallback glass-to-glass (${latencies.length} frames) | ${result.mse_g2g_p50_ms} | p95 ${result.mse_g2g_p95_ms} |`);
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/sharing.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
