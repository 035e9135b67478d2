import { signal } from '@preact/signals';
import type { CameraView } from '../../../../cameras/camera-view';
import { LAYOUTS, type Layout, MAX_TILES } from '../../../../prefs/layouts';

export { LAYOUTS, type Layout };

/** Tiles each layout holds. */
export const LAYOUT_TILES: Readonly<Record<Layout, number>> = { '1': 1, '4': 4, '9': 9, '16': 16, '1+5': 6, '1+7': 8 };

/**
 * The live wall's state, kept while the operator moves between screens (the tiles stop when
 * the wall is not shown, and start again when it is).
 */
export const layout = signal<Layout>('4');
/** Which camera each tile shows, in order; null for an empty tile. Always as long as the layout. */
export const slots = signal<(string | null)[]>([null, null, null, null]);
/** The camera shown alone, large and on its main stream; null for the grid. */
export const single = signal<string | null>(null);
/** The tile a click in the camera tree fills. */
export const selected = signal(0);
/** Whether the wall was filled from the camera list (and may be again), not arranged by hand. */
export const autoFilled = signal(true);
/** Which page of the camera list the auto-filled wall shows. */
export const page = signal(0);

/** Resizes the wall to a layout; new tiles are filled with cameras not on the wall yet. */
export function setLayout(next: Layout, cams: readonly CameraView[]): void {
  const n = LAYOUT_TILES[next];
  const kept = slots.value.slice(0, n);
  while (kept.length < n) kept.push(null);
  layout.value = next;
  slots.value = fillEmpty(kept, cams);
  if (selected.value >= n) selected.value = 0;
}

/** Fills empty tiles with live cameras not shown yet, in list order. */
export function fillEmpty(current: readonly (string | null)[], cams: readonly CameraView[]): (string | null)[] {
  const shown = new Set(current.filter((x): x is string => x !== null));
  const spare = cams.filter((c) => c.live && !shown.has(c.id)).map((c) => c.id);
  return current.map((x) => x ?? spare.shift() ?? null);
}

/** Shows page `p` of the live cameras on the wall (the operator's tour through the region). */
export function showPage(p: number, cams: readonly CameraView[]): void {
  const live = cams.filter((c) => c.live);
  const n = LAYOUT_TILES[layout.value];
  const pages = Math.max(1, Math.ceil(live.length / n));
  const at = Math.min(Math.max(0, p), pages - 1);
  page.value = at;
  slots.value = Array.from({ length: n }, (_, i) => live[at * n + i]?.id ?? null);
  autoFilled.value = true;
}

export function pageCount(cams: readonly CameraView[]): number {
  return Math.max(1, Math.ceil(cams.filter((c) => c.live).length / LAYOUT_TILES[layout.value]));
}

/** Puts a camera in a tile (moving it if it is already on the wall). */
export function place(cameraId: string, index: number): void {
  const next = slots.value.map((x) => (x === cameraId ? null : x));
  if (index < 0 || index >= next.length) return;
  next[index] = cameraId;
  slots.value = next;
  autoFilled.value = false;
  selected.value = nextSelection(next, index);
}

/** Where a click in the tree goes: the selected tile if empty, else the first empty one, else the selected one. */
export function targetTile(): number {
  const s = slots.value;
  if (s[selected.value] === null) return selected.value;
  const empty = s.indexOf(null);
  return empty >= 0 ? empty : selected.value;
}

function nextSelection(s: readonly (string | null)[], after: number): number {
  const empty = s.indexOf(null);
  return empty >= 0 ? empty : after;
}

export function clearTile(index: number): void {
  slots.value = slots.value.map((x, i) => (i === index ? null : x));
  autoFilled.value = false;
  selected.value = index;
}

export function swapTiles(a: number, b: number): void {
  const next = [...slots.value];
  [next[a], next[b]] = [next[b], next[a]];
  slots.value = next;
  autoFilled.value = false;
}

/** Opens a saved arrangement. */
export function applyView(v: { layout: Layout; cameras: readonly (string | null)[] }): void {
  const n = LAYOUT_TILES[v.layout];
  layout.value = v.layout;
  slots.value = Array.from({ length: n }, (_, i) => v.cameras[i] ?? null);
  autoFilled.value = false;
  single.value = null;
  selected.value = 0;
}

/** Shows a set of cameras (a school's) on the smallest layout that holds them. */
export function showCameras(ids: readonly string[]): void {
  const fit = LAYOUTS.filter((l) => !l.includes('+')).find((l) => LAYOUT_TILES[l] >= ids.length) ?? '16';
  applyView({ layout: fit, cameras: ids.slice(0, MAX_TILES) });
}
