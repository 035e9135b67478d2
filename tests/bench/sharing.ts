import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CentreClient } from '../../control-center/test/support/api-client';
import { type RtspClient, openRtspVideo } from '../../protocol/src/rtsp/rtsp-client';
import { launchChromium } from '../support/chromium';
import { startInProcessStack } from '../support/in-process-stack';
import { type TileStats, percentile, signInPage, tileStats, waitForTiles } from '../support/page-stats';
import { PoliceViewer, type ViewerTile } from '../support/police-viewer';
import { createUdpBlockedNetns, tcpRelay } from '../support/udp-blocked-netns';

/**
 * `npm run bench:sharing`: police sharing through the real grant service and routes.
 * Simulator, gateway and centre run in this process (a real SQLite file); every client talks to
 * the centre over its sockets, as a police system or dashboard would.
 *
 * - revoke-to-cut: `--grants` grants made by an operator (`POST /api/grants`, CSRF), each with
 *   live sessions of all three kinds under it: a police officer's WebRTC view (a werift peer on
 *   the viewer socket, RTP counted once connected), an MSE view (fMP4 on the viewer socket) and
 *   an RTSP re-export session (our RTSP client, playing, with the grant's own URL and Digest
 *   credentials). Grants of one force that cover the same camera overlap, and a view then runs
 *   on under the other grant (see the README): so grants are made in waves of one grant per
 *   camera (`--cameras` at a time, default 50: 100 grants are two waves of 50 grants and 150
 *   live sessions; each camera under exactly one active grant), every session of the wave
 *   playing before the first revocation. The clients (werift peers, RTSP clients) share this
 *   process's event loop with the centre, so their own work is inside the timings. Each grant is revoked in turn
 *   (`POST /api/grants/:id/revoke`); one sample is the time from sending the revoke to the
 *   last of its three sessions seen closed by its client (the page told `ended`, the RTSP
 *   connection closed). The centre's own count of live views under the grant is checked:
 *   3 before, 0 after.
 * - emergency to first police frame: school IT raises an emergency
 *   (`POST /api/schools/:id/emergency`); a police dashboard socket, pushed the grant, watches
 *   its first camera over WebRTC; one sample is the time from sending the POST to the first
 *   complete key frame the werift peer received. The camera's feed is cold each time (nobody
 *   watched it for longer than the upstream linger). The emergency is then ended by school IT.
 *   `--emergencies` times.
 * - MSE glass-to-glass: Chromium in a namespace whose UDP is blackholed falls back to MSE; the
 *   capture-time barcode of each painted frame gives the latency over `--seconds`.
 *
 * Bounded: every wait has a deadline; everything started here is closed at the end. The last
 * line is one JSON object, also written to bench-results/sharing.json.
 */
const { values } = parseArgs({
  options: {
    grants: { type: 'string', default: '100' },
    cameras: { type: 'string', default: '50' },
    emergencies: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '20' },
  },
});
const GRANTS = Number(values.grants);
const CAMERAS = Number(values.cameras);
const EMERGENCIES = Number(values.emergencies);
const SECONDS = Number(values.seconds);
/** Upstream linger of the centre and gateway: an emergency camera idle longer than this is cold. */
const LINGER_MS = 500;

/** Settles with `p`, or fails after `ms` saying what was awaited. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface GrantAnswer {
  id: string;
  forceId: string;
  cameraIds: string[];
  rtsp: { cameraId: string; url: string }[];
}

interface Shared {
  grant: GrantAnswer;
  web: ViewerTile;
  mse: ViewerTile;
  rtsp: RtspClient;
  rtspClosed: Promise<number>;
}

const stack = await startInProcessStack({
  cameras: CAMERAS,
  lingerMs: LINGER_MS,
  centre: { rtspExport: { port: 0 }, limits: { viewersPerUser: 10_000, viewersTotal: 10_000, tilesPerSocket: 256, requestsPerMinute: 1_000_000 } },
});
const cams = stack.fleet.info().cameras.map((c) => stack.centreId(c.id));
const school = stack.fleet.info().cameras[0].school;
const viewsUnder = (grantId: string): number => stack.centre.liveViews.list().filter((v) => v.basis.kind === 'grant' && v.basis.grantId === grantId).length;
const viewers: PoliceViewer[] = [];
const rtspClients: RtspClient[] = [];

const cuts: number[] = [];
const webCuts: number[] = [];
const mseCuts: number[] = [];
const rtspCuts: number[] = [];
const emergencyFrames: number[] = [];
const emergencyPushes: number[] = [];
let serverCountMismatches = 0;
let peakLiveViews = 0;
let waves = 0;
try {
  const operator = await CentreClient.signIn(stack.centre.url, stack.accounts.operator.username, stack.accounts.operator.password);
  const police = await CentreClient.signIn(stack.centre.url, stack.accounts.police.username, stack.accounts.police.password);
  const it = await CentreClient.signIn(stack.centre.url, stack.accounts.it.username, stack.accounts.it.password);

  // ---- revoke-to-cut -------------------------------------------------------------------
  let made = 0;
  while (made < GRANTS) {
    const wave = Math.min(CAMERAS, GRANTS - made);
    const viewer = await PoliceViewer.open(stack.centre.url, police.cookie);
    viewers.push(viewer);
    const shared: Shared[] = [];
    for (let k = 0; k < wave; k++) {
      const cameraId = cams[k];
      const res = await operator.post<GrantAnswer>('/api/grants', { forceId: stack.accounts.police.org, cameraIds: [cameraId], reason: 'bench', caseRef: `BENCH-${made + k}`, legalBasis: '§ 8 zák. 553/1991 Sb.', minutes: 60 });
      if (res.status !== 201) throw new Error(`POST /api/grants answered ${res.status}`);
      const grant = res.body;
      const [web, mse, { client }] = await Promise.all([viewer.watchWebRtc(`w${k}`, cameraId), viewer.watchMse(`m${k}`, cameraId), openRtspVideo(grant.rtsp[0].url)]);
      rtspClients.push(client);
      const rtspPlaying = new Promise<void>((r) => client.once('rtp', () => r()));
      const rtspClosed = new Promise<number>((r) => client.once('close', () => r(performance.now())));
      await within(Promise.all([web.flowing, mse.flowing, rtspPlaying]), 20_000, `the three sessions under grant ${made + k} to play`);
      shared.push({ grant, web, mse, rtsp: client, rtspClosed });
    }
    peakLiveViews = Math.max(peakLiveViews, stack.centre.liveViews.size);
    for (const s of shared) {
      if (viewsUnder(s.grant.id) !== 3) serverCountMismatches++;
      const at = performance.now();
      const res = await operator.post(`/api/grants/${s.grant.id}/revoke`);
      if (res.status !== 200) throw new Error(`revoke answered ${res.status}`);
      const [w, m, r] = await within(Promise.all([s.web.ended.then((e) => e.at), s.mse.ended.then((e) => e.at), s.rtspClosed]), 10_000, `the sessions of grant ${s.grant.id} to close`);
      webCuts.push(w - at);
      mseCuts.push(m - at);
      rtspCuts.push(r - at);
      cuts.push(Math.max(w, m, r) - at);
      if (viewsUnder(s.grant.id) !== 0) serverCountMismatches++;
    }
    await viewer.close();
    made += wave;
    waves++;
    console.log(`wave ${waves}: ${made}/${GRANTS} grants revoked; revoke-to-cut p50 so far ${percentile(cuts, 50).toFixed(1)} ms`);
  }
  if (stack.centre.liveViews.size !== 0) serverCountMismatches++;

  // ---- emergency to first police frame --------------------------------------------------
  const dashboard = await PoliceViewer.open(stack.centre.url, police.cookie);
  viewers.push(dashboard);
  for (let i = 0; i < EMERGENCIES; i++) {
    // Cold: nobody has watched the school's cameras for longer than the upstream linger.
    await new Promise((r) => setTimeout(r, LINGER_MS * 3));
    let onPush!: (grant: GrantAnswer) => void;
    const pushed = new Promise<GrantAnswer>((r) => (onPush = r));
    let pushedAt = 0;
    dashboard.onEvent((ev) => {
      if (ev.type === 'grant' && ev.change === 'emergency') {
        pushedAt ||= performance.now();
        onPush(ev.grant as GrantAnswer);
      }
    });
    const at = performance.now();
    const res = await it.post<GrantAnswer>(`/api/schools/${school}/emergency`, { reason: 'bench emergency' });
    if (res.status !== 201) throw new Error(`emergency answered ${res.status}`);
    if (res.body.forceId !== stack.accounts.police.org) throw new Error(`the emergency went to ${res.body.forceId}, not the bench's police force`);
    const grant = await within(pushed, 5000, 'the emergency pushed to the police dashboard');
    const tile = await dashboard.watchWebRtc(`e${i}`, grant.cameraIds[0], { keyframes: true });
    const frameAt = await within(tile.keyframe, 20_000, 'the first police key frame');
    emergencyPushes.push(pushedAt - at);
    emergencyFrames.push(frameAt - at);
    if ((await it.post(`/api/grants/${res.body.id}/revoke`)).status !== 200) throw new Error('ending the emergency failed');
    await within(tile.ended, 5000, 'the emergency view to be cut');
  }
} finally {
  for (const v of viewers) await v.close();
  for (const c of rtspClients) await c.close();
  await stack.close();
}

const g2g = await mseGlassToGlass();

const round = (x: number): number => Math.round(x * 10) / 10;
const stat = (xs: number[], p: number): number => round(percentile(xs, p));
const result = {
  bench: 'sharing',
  grants: GRANTS,
  cameras: CAMERAS,
  sessions_per_grant: { webrtc: 1, mse: 1, rtsp: 1 },
  grants_live_at_once: Math.min(CAMERAS, GRANTS),
  waves,
  peak_live_views: peakLiveViews,
  revoke_to_cut_p50_ms: stat(cuts, 50),
  revoke_to_cut_p99_ms: stat(cuts, 99),
  revoke_to_cut_max_ms: round(Math.max(...cuts)),
  webrtc_cut_p50_ms: stat(webCuts, 50),
  webrtc_cut_p99_ms: stat(webCuts, 99),
  mse_cut_p50_ms: stat(mseCuts, 50),
  mse_cut_p99_ms: stat(mseCuts, 99),
  rtsp_cut_p50_ms: stat(rtspCuts, 50),
  rtsp_cut_p99_ms: stat(rtspCuts, 99),
  server_count_mismatches: serverCountMismatches,
  emergencies: emergencyFrames.length,
  emergency_push_p50_ms: stat(emergencyPushes, 50),
  emergency_to_first_frame_p50_ms: stat(emergencyFrames, 50),
  emergency_to_first_frame_p95_ms: stat(emergencyFrames, 95),
  emergency_to_first_frame_max_ms: round(Math.max(...emergencyFrames)),
  emergency_camera_gop_s: 2,
  mse_transport: g2g.transport,
  mse_g2g_samples: g2g.latencies.length,
  mse_g2g_p50_ms: stat(g2g.latencies, 50),
  mse_g2g_p95_ms: stat(g2g.latencies, 95),
  mse_g2g_max_ms: round(Math.max(...g2g.latencies)),
  targets_met: {
    revoke_to_cut_p99_le_1000_ms: percentile(cuts, 99) <= 1000,
    emergency_to_first_frame_le_2000_ms: Math.max(...emergencyFrames) <= 2000,
    mse_g2g_p95_le_300_ms: percentile(g2g.latencies, 95) <= 300,
  },
};
console.log('| what | p50 ms | p99/p95/max ms |');
console.log(`| revoke → last of WebRTC + MSE + RTSP closed (${GRANTS} grants, ${result.grants_live_at_once} live at once) | ${result.revoke_to_cut_p50_ms} | p99 ${result.revoke_to_cut_p99_ms}, max ${result.revoke_to_cut_max_ms} |`);
console.log(`| revoke → WebRTC tile told 'ended' | ${result.webrtc_cut_p50_ms} | p99 ${result.webrtc_cut_p99_ms} |`);
console.log(`| revoke → MSE tile told 'ended' | ${result.mse_cut_p50_ms} | p99 ${result.mse_cut_p99_ms} |`);
console.log(`| revoke → RTSP client sees close | ${result.rtsp_cut_p50_ms} | p99 ${result.rtsp_cut_p99_ms} |`);
console.log(`| emergency → first complete police key frame (${result.emergencies}, cold feed) | ${result.emergency_to_first_frame_p50_ms} | p95 ${result.emergency_to_first_frame_p95_ms}, max ${result.emergency_to_first_frame_max_ms} |`);
console.log(`| MSE fallback glass-to-glass (${g2g.latencies.length} frames) | ${result.mse_g2g_p50_ms} | p95 ${result.mse_g2g_p95_ms} |`);
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/sharing.json', `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));

/** MSE glass-to-glass: a browser whose UDP is blocked falls back to MSE. */
async function mseGlassToGlass(): Promise<{ latencies: number[]; transport: string }> {
  const lan = await createUdpBlockedNetns();
  const g2gStack = await startInProcessStack({ cameras: 1, lingerMs: 2000 });
  const relay = await tcpRelay(lan.hostAddress, new URL(g2gStack.centre.url));
  const browser = await launchChromium({ netns: lan.ns });
  try {
    const page = await browser.context.newPage();
    await signInPage(page, `${relay.url}/?diag=1#/live`, g2gStack.accounts.operator);
    await waitForTiles(page, (ts) => ts.length === 1 && ts[0].transport === 'mse' && ts[0].barcodes > 0, 60_000, 'the MSE fallback to play');
    const start = (await tileStats(page))[0].latencies.length;
    await page.waitForTimeout(SECONDS * 1000);
    const tile: TileStats = (await tileStats(page))[0];
    return { latencies: tile.latencies.slice(start), transport: tile.transport };
  } finally {
    await browser.close();
    await relay.close();
    await g2gStack.close();
    await lan.close();
  }
}
