import { readBarcode } from '@schoolcam/protocol/h264/encoder/barcode';
import type { EndCause } from '../../access/revocation';
import type { ErrorBody, SessionBody } from '../../auth/auth-schemas';
import type { CameraView } from '../../cameras/camera-view';
import { decodeMseFrame } from '../../viewer/mse-frame';
import type { ViewerEvent, ViewerRequest } from '../../viewer/viewer-messages';
import { GrantsPanel } from './grants-panel';
import { type Lang, plural, t } from './i18n';
import { MsePlayer } from './mse-player';

/**
 * Live page: sign in, then a grid of the cameras this account may watch, each tile a WebRTC
 * video relayed by the centre. Where WebRTC cannot connect (UDP blocked: ICE fails or does not
 * connect in time), a tile falls back on its own to fMP4 over the same socket (MSE), and the
 * page's later tiles start there. The browser↔centre messages and API bodies are the centre's
 * own types (imported, never re-declared).
 */

/** How a tile gets its video. */
type Transport = 'webrtc' | 'mse';
/** A WebRTC tile whose ICE has not connected this long after its answer falls back to MSE. */
const ICE_CONNECT_TIMEOUT_MS = 5000;
/** Set once a tile had to fall back: WebRTC does not work from here, so new tiles start on MSE. */
let preferMse = false;

/** Per-tile figures, exposed on `window.schoolcam` for operators' diagnostics and tests. */
export interface TileStats {
  cameraId: string;
  state: string;
  openedAt: number;
  firstFrameAt: number | null;
  frames: number;
  width: number;
  height: number;
  /** Glass-to-glass latency of recent frames (ms), from the simulator's capture-time barcode. */
  latencies: number[];
  barcodes: number;
  /** How the video comes now. */
  transport: Transport;
  /** Why the tile left WebRTC for MSE, if it did. */
  fallback: string | null;
  /** When the last frame was shown (ms since the epoch). */
  lastFrameAt: number | null;
}

/** A view the centre ended, as the page recorded it (for diagnostics and tests). */
export interface Ending {
  cameraId: string;
  /** When the page stopped the video (ms since the epoch). */
  at: number;
  lastFrameAt: number | null;
  causeKind: EndCause['kind'];
  reason: string;
}

let lang: Lang = (localStorage.getItem('lang') as Lang | null) ?? 'cs';
const grid = document.getElementById('grid')!;
const status = document.getElementById('status')!;
const pageLabel = document.getElementById('page')!;
const loginForm = document.getElementById('login') as HTMLFormElement;
const loginError = document.getElementById('login-error')!;
const signedInBar = document.getElementById('signed-in')!;
const whoami = document.getElementById('whoami')!;
/** Every camera the centre lets this account watch live, in its order; the grid shows one page of them. */
let cameraList: CameraView[] = [];
/** Cameras visible to the account (live or health only); null until the centre sent the list. */
let visibleCount: number | null = null;
let session: SessionBody | null = null;
let gridSize = 4;
let page = 0;
const tiles = new Map<string, Tile>();
let ws: WebSocket | undefined;
let tileSeq = 0;
const endings: Ending[] = [];
const grantsPanel = new GrantsPanel(
  () => lang,
  () => session,
  () => {
    for (const tile of tiles.values()) tile.showCase(grantsPanel.caseRefFor(tile.camera.id));
  },
);

class Tile {
  readonly el = document.createElement('div');
  readonly video = document.createElement('video');
  readonly label = document.createElement('div');
  readonly stateEl = document.createElement('span');
  readonly latEl = document.createElement('span');
  readonly caseEl = document.createElement('span');
  pc: RTCPeerConnection | undefined;
  mse: MsePlayer | undefined;
  transport: Transport = preferMse ? 'mse' : 'webrtc';
  fallback: string | null = null;
  handle = '';
  private connectTimer: number | undefined;
  stats: TileStats;
  private readonly canvas = document.createElement('canvas');
  private retry: number | undefined;

  constructor(public camera: CameraView) {
    this.el.className = 'tile';
    this.el.dataset.camera = camera.id;
    this.video.muted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.label.className = 'label';
    const name = document.createElement('span');
    name.textContent = `${camera.name} · ${camera.schoolId}`;
    this.stateEl.className = 'state';
    this.caseEl.className = 'case';
    this.label.append(name, this.caseEl, this.latEl, this.stateEl);
    this.showCase(grantsPanel.caseRefFor(camera.id));
    this.el.append(this.video, this.label);
    this.stats = this.freshStats();
    this.setState('connecting');
    this.video.requestVideoFrameCallback(this.onFrame);
  }

  private freshStats(): TileStats {
    return {
      cameraId: this.camera.id,
      state: 'connecting',
      openedAt: performance.timeOrigin + performance.now(),
      firstFrameAt: null,
      frames: 0,
      width: 0,
      height: 0,
      latencies: [],
      barcodes: 0,
      transport: this.transport,
      fallback: this.fallback,
      lastFrameAt: null,
    };
  }

  /** The case reference of the grant the tile is watched under (police), on the tile itself. */
  showCase(caseRef: string | undefined): void {
    this.caseEl.textContent = caseRef ? `${t(lang, 'grant.caseRef')} ${caseRef}` : '';
  }

  setState(state: string): void {
    this.stats.state = state;
    this.el.dataset.state = state;
    this.el.dataset.transport = this.transport;
    // A person should see why this tile behaves differently (a little later, over TCP).
    const mse = this.transport === 'mse' && state === 'playing';
    this.stateEl.textContent = mse ? `${t(lang, 'state.playing')} · ${t(lang, 'transport.mse')}` : t(lang, `state.${state}`);
    this.stateEl.title = mse ? t(lang, 'transport.mseTitle') : '';
  }

  open(): void {
    this.close();
    this.stats = this.freshStats();
    this.setState('connecting');
    this.handle = `t${++tileSeq}`;
    send({ type: 'watch', tile: this.handle, cameraId: this.camera.id, transport: this.transport });
  }

  /** WebRTC could not connect: the same camera over MSE, now and for this page's next tiles. */
  private fallBack(reason: string): void {
    if (this.transport === 'mse' || !MsePlayer.supports('avc1.42e01f')) {
      this.ended(reason);
      return;
    }
    preferMse = true;
    this.transport = 'mse';
    this.fallback = reason;
    this.open();
  }

  /** The centre's `mse` event: the codec of the fMP4 that follows. */
  onMse(codec: string): void {
    this.mse ??= new MsePlayer(this.video);
    this.mse.setCodec(codec);
  }

  onMseData(fmp4: Uint8Array<ArrayBuffer>): void {
    this.mse?.append(fmp4);
  }

  async onOffer(sdp: string): Promise<void> {
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    pc.ontrack = (ev) => {
      // Live video: no extra hold-back in the jitter buffer (the centre also bounds the playout
      // delay with the playout-delay RTP header extension).
      (ev.receiver as RTCRtpReceiver & { jitterBufferTarget?: number | null }).jitterBufferTarget = 0;
      this.video.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
      void this.video.play().catch(() => undefined);
    };
    let connected = false;
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') {
        connected = true;
        window.clearTimeout(this.connectTimer);
      }
      // Never connected: the network keeps WebRTC out (UDP blocked); once connected, a failure is the stream's.
      if (pc.connectionState === 'failed' && this.pc === pc) {
        if (connected) this.ended('connection failed');
        else this.fallBack('webrtc_failed');
      }
    };
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    // Non-trickle: wait for gathering so the answer carries every candidate.
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          if (pc.iceGatheringState === 'complete') resolve();
        };
        pc.addEventListener('icegatheringstatechange', done);
        setTimeout(resolve, 2000);
      });
    }
    if (this.pc !== pc) return;
    send({ type: 'answer', tile: this.handle, sdp: pc.localDescription!.sdp });
    this.connectTimer = window.setTimeout(() => {
      // ICE through but DTLS slow (a busy centre) is not a blocked network: leave it to 'failed'.
      const iceUp = pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed';
      if (this.pc === pc && pc.connectionState !== 'connected' && !iceUp) this.fallBack('webrtc_timeout');
    }, ICE_CONNECT_TIMEOUT_MS);
  }

  /** The stream ended; `retry` (default) tries again shortly, as cameras come back after reboots and link cuts. */
  ended(reason: string, retry = true): void {
    this.close();
    this.setState('ended');
    this.el.title = reason;
    if (retry) this.retry = window.setTimeout(() => this.open(), 3000);
  }

  close(): void {
    window.clearTimeout(this.retry);
    window.clearTimeout(this.connectTimer);
    if (this.handle) send({ type: 'unwatch', tile: this.handle });
    this.pc?.close();
    this.pc = undefined;
    this.mse?.close();
    this.mse = undefined;
    this.video.srcObject = null;
  }

  private readonly onFrame = (now: number, meta: VideoFrameCallbackMetadata): void => {
    this.video.requestVideoFrameCallback(this.onFrame);
    if (!this.pc && !this.mse) return;
    const s = this.stats;
    s.frames++;
    s.lastFrameAt = performance.timeOrigin + now;
    s.width = meta.width;
    s.height = meta.height;
    if (s.firstFrameAt === null) {
      s.firstFrameAt = performance.timeOrigin + now;
      this.setState('playing');
    }
    const captured = this.readCaptureTime(meta.width);
    if (captured !== null) {
      s.barcodes++;
      const latency = performance.timeOrigin + now - captured;
      s.latencies.push(latency);
      if (s.latencies.length > 3000) s.latencies.shift();
      if (s.frames % 15 === 0) this.latEl.textContent = `${t(lang, 'latency')} ${Math.round(latency)} ms`;
    }
  };

  /** Reads the simulator's capture-time barcode from the top rows of the frame. */
  private readCaptureTime(width: number): number | null {
    const rows = 16;
    if (this.canvas.width !== width) {
      this.canvas.width = width;
      this.canvas.height = rows;
    }
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return null;
    ctx.drawImage(this.video, 0, 0, width, rows, 0, 0, width, rows);
    return readBarcode(ctx.getImageData(0, 0, width, rows).data, width, rows, 4);
  }
}

function send(msg: ViewerRequest): void {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

/**
 * Shows one page of the grid. Only the cameras on it are watched: a region has hundreds,
 * and every watched camera is pulled from its school, so the rest stay idle.
 */
function render(): void {
  const pages = Math.max(1, Math.ceil(cameraList.length / gridSize));
  page = Math.min(page, pages - 1);
  const visible = cameraList.slice(page * gridSize, (page + 1) * gridSize);
  const seen = new Set<string>();
  for (const cam of visible) {
    seen.add(cam.id);
    let tile = tiles.get(cam.id);
    if (!tile) {
      tile = new Tile(cam);
      tiles.set(cam.id, tile);
      tile.open();
    }
    grid.append(tile.el); // in list order
    tile.camera = cam;
    if (cam.state === 'offline' || cam.state === 'failing') tile.setState(cam.state);
  }
  for (const [id, tile] of tiles) {
    if (!seen.has(id)) {
      tile.close();
      tile.el.remove();
      tiles.delete(id);
    }
  }
  pageLabel.textContent = `${page + 1} / ${pages}`;
  if (!session || visibleCount === null) return;
  status.textContent = cameraList.length > 0 ? '' : visibleCount > 0 ? plural(lang, 'noLive', visibleCount) : t(lang, 'noCameras');
}

/** Causes after which a tile does not try again by itself: access is gone, not just the stream. */
const FINAL_CAUSES = new Set<EndCause['kind']>(['gateway_revoked', 'access_revoked', 'logout', 'session_expired', 'user_disabled', 'user_changed']);

function onEvent(ev: ViewerEvent): void {
  switch (ev.type) {
    case 'cameras':
      visibleCount = ev.cameras.length;
      cameraList = ev.cameras.filter((c) => c.live);
      render();
      return;
    case 'offer': {
      const tile = tileByHandle(ev.tile);
      if (tile) void tile.onOffer(ev.sdp).catch((err: Error) => tile.ended(err.message));
      return;
    }
    case 'mse':
      tileByHandle(ev.tile)?.onMse(ev.codec);
      return;
    case 'ended': {
      const tile = tileByHandle(ev.tile);
      if (tile) {
        tile.ended(ev.reason, !FINAL_CAUSES.has(ev.cause.kind));
        endings.push({ cameraId: tile.camera.id, at: Date.now(), lastFrameAt: tile.stats.lastFrameAt, causeKind: ev.cause.kind, reason: ev.reason });
      }
      if (ev.cause.kind === 'access_revoked') grantsPanel.viewCut(ev.cause.grantId, ev.cause.grantEnd);
      return;
    }
    case 'grant':
      grantsPanel.update(ev.change, ev.grant);
      return;
    case 'error': {
      const tile = ev.tile === undefined ? undefined : tileByHandle(ev.tile);
      // Refused for good (out of scope, not allowed, too many tiles): the tile stays ended.
      const final = ev.code === 'NOT_FOUND' || ev.code === 'FORBIDDEN' || ev.code === 'TOO_MANY_TILES';
      if (tile) {
        tile.ended(ev.message, !final);
        if (final) tile.setState('refused');
      } else status.textContent = ev.message;
      return;
    }
    case 'signed-out':
      signedOut(ev.cause.kind === 'logout' ? 'login.signedOut' : 'login.expired');
      return;
  }
}

function tileByHandle(handle: string): Tile | undefined {
  return [...tiles.values()].find((x) => x.handle === handle);
}

function connect(): void {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // The session cookie goes with the upgrade; the centre checks it and the page's Origin.
  const socket = new WebSocket(`${proto}//${location.host}/api/view`);
  ws = socket;
  socket.onopen = () => {
    status.textContent = '';
    for (const tile of tiles.values()) tile.open();
  };
  socket.binaryType = 'arraybuffer';
  socket.onmessage = (m) => {
    if (typeof m.data === 'string') {
      onEvent(JSON.parse(m.data) as ViewerEvent);
      return;
    }
    const frame = decodeMseFrame(new Uint8Array(m.data as ArrayBuffer));
    if (frame) tileByHandle(frame.tile)?.onMseData(frame.fmp4);
  };
  socket.onclose = () => {
    if (ws !== socket) return;
    ws = undefined;
    for (const tile of tiles.values()) tile.close();
    if (!session) return;
    status.textContent = t(lang, 'disconnected');
    // Back when the centre is: with the session still valid, reconnect; else ask to sign in.
    setTimeout(() => void resume(), 2000);
  };
}

async function resume(): Promise<void> {
  const res = await fetch('/api/session').catch(() => undefined);
  if (!res) {
    setTimeout(() => void resume(), 2000);
    return;
  }
  if (res.ok) signedIn((await res.json()) as SessionBody);
  else signedOut(session ? 'login.expired' : undefined);
}

function signedIn(body: SessionBody): void {
  session = body;
  loginForm.hidden = true;
  signedInBar.hidden = false;
  whoami.textContent = `${body.user.username} (${body.user.role}, ${body.user.org})`;
  loginError.textContent = '';
  if (!ws) connect();
  void grantsPanel.load();
}

function signedOut(messageKey?: string): void {
  session = null;
  visibleCount = null;
  cameraList = [];
  const socket = ws;
  ws = undefined;
  socket?.close();
  for (const tile of tiles.values()) {
    tile.close();
    tile.el.remove();
  }
  tiles.clear();
  grantsPanel.clear();
  signedInBar.hidden = true;
  loginForm.hidden = false;
  status.textContent = '';
  loginError.textContent = messageKey ? t(lang, messageKey) : '';
}

loginForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const data = new FormData(loginForm);
  const field = (name: string): string => {
    const v = data.get(name);
    return typeof v === 'string' ? v : '';
  };
  const totp = field('totp').trim();
  const body = { username: field('username'), password: field('password'), ...(totp ? { totp } : {}) };
  void (async () => {
    const res = await fetch('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => undefined);
    if (res?.ok) {
      (loginForm.elements.namedItem('password') as HTMLInputElement).value = '';
      (loginForm.elements.namedItem('totp') as HTMLInputElement).value = '';
      signedIn((await res.json()) as SessionBody);
      return;
    }
    const err = res ? ((await res.json().catch(() => ({}))) as Partial<ErrorBody>) : {};
    const key =
      err.error === 'TOTP_REQUIRED' ? 'login.totp' : err.error === 'TOTP_NOT_SET_UP' ? 'login.totpSetup' : res?.status === 429 ? 'login.locked' : res?.status === 401 ? 'login.bad' : 'login.failed';
    loginError.textContent = t(lang, key);
  })();
});

document.getElementById('logout')!.onclick = () => {
  const csrf = session?.csrfToken ?? '';
  void fetch('/api/session', { method: 'DELETE', headers: { 'x-csrf-token': csrf } }).finally(() => signedOut('login.signedOut'));
};

function applyLang(): void {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(lang, el.dataset.i18n!);
  for (const el of document.querySelectorAll<HTMLInputElement>('[data-i18n-placeholder]')) el.placeholder = t(lang, el.dataset.i18nPlaceholder!);
  document.getElementById('lang')!.textContent = lang === 'cs' ? 'EN' : 'CZ';
  document.title = t(lang, 'title');
  for (const tile of tiles.values()) tile.setState(tile.stats.state);
  grantsPanel.render();
}

function setGrid(size: number): void {
  gridSize = size;
  grid.className = `grid g${size}`;
  for (const x of document.querySelectorAll<HTMLElement>('[data-grid]')) x.classList.toggle('active', Number(x.dataset.grid) === size);
  render();
}
for (const b of document.querySelectorAll<HTMLButtonElement>('[data-grid]')) b.onclick = () => setGrid(Number(b.dataset.grid));
document.getElementById('prev')!.onclick = () => {
  page = Math.max(0, page - 1);
  render();
};
document.getElementById('next')!.onclick = () => {
  page += 1;
  render();
};
document.getElementById('lang')!.onclick = () => {
  lang = lang === 'cs' ? 'en' : 'cs';
  localStorage.setItem('lang', lang);
  applyLang();
};

declare global {
  interface Window {
    schoolcam: {
      tiles(): TileStats[];
      unwatch(cameraId: string): void;
      watch(cameraId: string): void;
      inbound(cameraId: string): Promise<Record<string, unknown> | null>;
      /** Who is signed in, and whether the centre has sent this account's camera list yet. */
      session(): { user: SessionBody['user'] | null; camerasReceived: boolean; liveCameras: number; visibleCameras: number };
      /** Views the centre ended, oldest first. */
      endings(): Ending[];
      /** The running grants the page knows, and the notice it shows. */
      grants(): { active: { id: string; caseRef: string; cameraIds: string[]; expiresAt: number | null }[]; notice: string };
    };
  }
}
window.schoolcam = {
  session: () => ({ user: session?.user ?? null, camerasReceived: visibleCount !== null, liveCameras: cameraList.length, visibleCameras: visibleCount ?? 0 }),
  tiles: () => [...tiles.values()].map((x) => ({ ...x.stats, latencies: [...x.stats.latencies] })),
  endings: () => endings.map((e) => ({ ...e })),
  grants: () => ({ active: grantsPanel.active().map((g) => ({ id: g.id, caseRef: g.caseRef, cameraIds: g.cameraIds, expiresAt: g.expiresAt })), notice: grantsPanel.noticeText }),
  unwatch: (id) => {
    const tile = tiles.get(id);
    if (tile) {
      tile.close();
      tile.handle = '';
    }
  },
  watch: (id) => tiles.get(id)?.open(),
  inbound: async (id) => {
    const pc = tiles.get(id)?.pc;
    if (!pc) return null;
    let found: Record<string, unknown> | null = null;
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') found = r;
    });
    return found;
  },
};

applyLang();
setGrid(gridSize);
void resume();
