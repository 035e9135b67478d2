import { useEffect, useRef } from 'preact/hooks';
import { Icon } from '../../components/icons';
import { caseRefFor } from '../../stores/grants';
import { cameras, camerasReceived, liveCameras } from '../../stores/store';
import { t, tp } from '../../i18n';
import { navigate, route } from '../../router';
import { session } from '../../session';
import { CAMERA_DRAG_TYPE, CameraTree } from './camera-tree';
import {
  LAYOUTS,
  LAYOUT_TILES,
  autoFilled,
  clearTile,
  fillEmpty,
  layout,
  page,
  pageCount,
  place,
  selected,
  setLayout,
  showCameras,
  showPage,
  single,
  slots,
  swapTiles,
} from './live-state';
import { SavedViews } from './saved-views';
import { SnapshotDialog, takeSnapshot } from './snapshot-dialog';
import { VideoTile } from './video-tile';

const SLOT_DRAG_TYPE = 'application/x-schoolcam-slot';

/**
 * The live wall: a camera tree, a layout of tiles (1, 4, 9, 16, 1+5, 1+7) on the cameras'
 * sub streams, and a single large view on a camera's main stream (double-click a tile).
 */
export function LiveScreen() {
  const wall = useRef<HTMLDivElement>(null);
  const cams = cameras.value;
  const byId = new Map(cams.map((c) => [c.id, c]));

  // First camera list: fill the wall. Later lists: keep the arrangement.
  useEffect(() => {
    if (!camerasReceived.value) return;
    if (autoFilled.value && slots.value.every((x) => x === null)) slots.value = fillEmpty(slots.value, cams);
  }, [camerasReceived.value, cams]);

  // Deep links: `#/live?camera=ID` (from an alarm) opens it large; `?school=ID` shows the school's
  // cameras; `?layout=16` opens the wall in that layout (a bookmark for a control-room screen).
  const { params } = route.value;
  useEffect(() => {
    if (!camerasReceived.value) return;
    const cam = params.get('camera');
    const school = params.get('school');
    const wanted = params.get('layout');
    if (cam && byId.get(cam)?.live) single.value = cam;
    else if (school) showCameras(cams.filter((c) => c.live && c.schoolId === school).map((c) => c.id));
    else if (wanted && (LAYOUTS as readonly string[]).includes(wanted)) {
      single.value = null;
      setLayout(wanted as (typeof LAYOUTS)[number], cams);
    }
    if (cam || school || wanted) navigate('/live');
  }, [camerasReceived.value, params.get('camera'), params.get('school'), params.get('layout')]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape' && single.value && !document.fullscreenElement) single.value = null;
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const live = liveCameras.value;
  if (camerasReceived.value && live.length === 0) {
    const police = session.value?.user.role === 'police';
    return (
      <section class="live-empty">
        <p id="status" class="empty" role="status">
          {cams.length > 0 ? tp('live.noLive', cams.length) : t(police ? 'live.noCamerasPolice' : 'live.noCameras')}
        </p>
      </section>
    );
  }

  const fullscreen = (): void => {
    void wall.current?.requestFullscreen?.().catch(() => undefined);
  };
  const pages = pageCount(cams);
  const singleCam = single.value ? byId.get(single.value) : undefined;

  return (
    <section class="live" aria-label={t('nav.live')}>
      <aside class="live-side">
        <CameraTree />
      </aside>
      <div class="live-main">
        <div class="toolbar" role="toolbar" aria-label={t('live.layout')}>
          <div class="layouts" role="group" aria-label={t('live.layout')}>
            {LAYOUTS.map((l) => (
              <button
                key={l}
                type="button"
                data-grid={l}
                class={layout.value === l && !singleCam ? 'active' : ''}
                aria-pressed={layout.value === l && !singleCam}
                aria-label={t('live.layoutName', { name: l })}
                onClick={() => {
                  single.value = null;
                  setLayout(l, cams);
                }}
              >
                <LayoutIcon layout={l} />
              </button>
            ))}
          </div>
          <div class="pager" role="group">
            <button type="button" id="prev" aria-label={t('live.prevPage')} disabled={page.value <= 0} onClick={() => showPage(page.value - 1, cams)}>
              ◀
            </button>
            <span id="page" aria-live="polite">
              {autoFilled.value ? `${page.value + 1} / ${pages}` : '—'}
            </span>
            <button type="button" id="next" aria-label={t('live.nextPage')} disabled={page.value >= pages - 1 && autoFilled.value} onClick={() => showPage(autoFilled.value ? page.value + 1 : 0, cams)}>
              ▶
            </button>
          </div>
          <SavedViews />
          <button type="button" class="fullscreen" onClick={fullscreen}>
            <Icon name="expand" /> {t('live.fullscreen')}
          </button>
        </div>
        <div class="wall-frame" ref={wall}>
          {singleCam ? (
            <div class="wall single">
              <div class="tile big" data-slot="single" tabIndex={0} aria-label={singleCam.name}>
                <VideoTile camera={singleCam} profile="main" index={1} caseRef={caseRefFor(singleCam.id)} onOpenSingle={() => (single.value = null)} onSnapshot={() => takeSnapshot(singleCam)} />
                <button type="button" class="back-to-grid" onClick={() => (single.value = null)}>
                  <Icon name="back" /> {t('tile.backToGrid')}
                </button>
              </div>
            </div>
          ) : (
            <div class={`wall layout-${layout.value.replace('+', 'p')}`} id="grid">
              {slots.value.slice(0, LAYOUT_TILES[layout.value]).map((id, i) => {
                const cam = id ? byId.get(id) : undefined;
                return (
                  <div
                    key={`${i}:${id ?? ''}`}
                    class={`tile${selected.value === i ? ' selected' : ''}${cam ? '' : ' empty'}`}
                    data-slot={i}
                    tabIndex={0}
                    draggable={Boolean(cam)}
                    aria-label={cam ? t('tile.label', { n: i + 1, camera: cam.name }) : t('tile.labelEmpty', { n: i + 1 })}
                    onClick={() => (selected.value = i)}
                    onDblClick={() => cam?.live && (single.value = cam.id)}
                    onKeyDown={(e) => {
                      if (e.target !== e.currentTarget) return;
                      if (e.key === 'Enter' && cam?.live) single.value = cam.id;
                      if ((e.key === 'Delete' || e.key === 'Backspace') && cam) clearTile(i);
                    }}
                    onDragStart={(e) => e.dataTransfer?.setData(SLOT_DRAG_TYPE, String(i))}
                    onDragOver={(e) => e.preventDefault()}
                    onDrop={(e) => {
                      e.preventDefault();
                      const camera = e.dataTransfer?.getData(CAMERA_DRAG_TYPE);
                      const from = e.dataTransfer?.getData(SLOT_DRAG_TYPE);
                      if (camera) place(camera, i);
                      else if (from) swapTiles(Number(from), i);
                    }}
                  >
                    {cam?.live ? (
                      <VideoTile
                        camera={cam}
                        profile={tileProfile(layout.value, i)}
                        index={i + 1}
                        caseRef={caseRefFor(cam.id)}
                        onOpenSingle={() => (single.value = cam.id)}
                        onRemove={() => clearTile(i)}
                        onSnapshot={() => takeSnapshot(cam)}
                      />
                    ) : (
                      <p class="tile-placeholder">{t('tile.empty')}</p>
                    )}
                  </div>
                );
              })}
            </div>
          )}
        </div>
      </div>
      <SnapshotDialog />
    </section>
  );
}

/**
 * Which stream a tile asks for: the camera's main stream where the tile is large (a one-tile
 * layout, the big tile of 1+5 and 1+7), its light sub stream in the grid's small tiles.
 */
export function tileProfile(l: string, index: number): 'main' | 'sub' {
  return l === '1' || (l.includes('+') && index === 0) ? 'main' : 'sub';
}

/** A small drawing of a layout for its button. */
function LayoutIcon({ layout: l }: { layout: string }) {
  const cells: [number, number, number][] = [];
  const grid = (n: number): void => {
    for (let i = 0; i < n * n; i++) cells.push([(i % n) / n, Math.floor(i / n) / n, 1 / n]);
  };
  if (l === '1+5') {
    cells.push([0, 0, 2 / 3]);
    for (const [x, y] of [[2, 0], [2, 1], [0, 2], [1, 2], [2, 2]]) cells.push([x / 3, y / 3, 1 / 3]);
  } else if (l === '1+7') {
    cells.push([0, 0, 3 / 4]);
    for (const [x, y] of [[3, 0], [3, 1], [3, 2], [0, 3], [1, 3], [2, 3], [3, 3]]) cells.push([x / 4, y / 4, 1 / 4]);
  } else grid(Math.sqrt(Number(l)));
  return (
    <svg viewBox="0 0 16 16" width="18" height="18" aria-hidden="true">
      {cells.map(([x, y, s], i) => (
        <rect key={i} x={x * 16 + 0.5} y={y * 16 + 0.5} width={s * 16 - 1} height={s * 16 - 1} rx="0.5" />
      ))}
    </svg>
  );
}
