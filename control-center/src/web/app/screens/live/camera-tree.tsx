import { useState } from 'preact/hooks';
import type { CameraView } from '../../../../cameras/camera-view';
import { StateBadge } from '../../components/state-badge';
import { cameras, orgs } from '../../stores/store';
import { t, tp } from '../../i18n';
import { place, slots, targetTile } from './live-state';

/** The drag payload type for a camera from the tree. */
export const CAMERA_DRAG_TYPE = 'application/x-schoolcam-camera';

interface SchoolNode {
  id: string;
  name: string;
  cameras: CameraView[];
}
interface TownNode {
  id: string;
  name: string;
  schools: SchoolNode[];
}

/** Towns → schools → cameras, from the organisations and cameras this account may see. */
export function cameraTree(cams: readonly CameraView[], filter: string): TownNode[] {
  const q = filter.trim().toLocaleLowerCase();
  const allOrgs = orgs.value;
  const schoolsById = new Map(allOrgs.filter((o) => o.kind === 'school').map((o) => [o.id, o]));
  const bySchool = new Map<string, CameraView[]>();
  for (const c of cams) bySchool.set(c.schoolId, [...(bySchool.get(c.schoolId) ?? []), c]);
  const towns = new Map<string, TownNode>();
  for (const [schoolId, list] of bySchool) {
    const school = schoolsById.get(schoolId);
    const town = allOrgs.find((o) => o.id === school?.parentId);
    const schoolName = school?.name ?? schoolId;
    const townName = town?.name ?? '—';
    const matches = (c: CameraView): boolean => !q || [c.name, schoolName, townName].some((s) => s.toLocaleLowerCase().includes(q));
    const shown = list.filter(matches).sort((a, b) => a.name.localeCompare(b.name));
    if (shown.length === 0) continue;
    const key = town?.id ?? '-';
    const node = towns.get(key) ?? { id: key, name: townName, schools: [] };
    node.schools.push({ id: schoolId, name: schoolName, cameras: shown });
    towns.set(key, node);
  }
  const out = [...towns.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const town of out) town.schools.sort((a, b) => a.name.localeCompare(b.name));
  return out;
}

/** The camera tree of the live view: click a camera to put it in the selected tile, or drag it onto a tile. */
export function CameraTree() {
  const [filter, setFilter] = useState('');
  const towns = cameraTree(cameras.value, filter);
  const onWall = new Set(slots.value);
  return (
    <nav class="tree" aria-label={t('live.tree')}>
      <label class="tree-filter">
        <span class="sr-only">{t('live.filter')}</span>
        <input type="search" placeholder={t('live.filter')} value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </label>
      <ul class="tree-towns">
        {towns.map((town) => (
          <li key={town.id}>
            <details open>
              <summary>{town.name}</summary>
              <ul>
                {town.schools.map((school) => (
                  <li key={school.id} class="tree-school" data-school={school.id}>
                    <details open>
                      <summary>
                        {school.name} <span class="muted">({tp('live.cameras', school.cameras.length)})</span>
                      </summary>
                      <ul>
                        {school.cameras.map((c) => (
                          <li key={c.id}>
                            <button
                              type="button"
                              class={onWall.has(c.id) ? 'tree-camera on-wall' : 'tree-camera'}
                              data-camera={c.id}
                              draggable={c.live}
                              disabled={!c.live}
                              aria-label={t('live.place', { camera: `${c.name}, ${school.name}` })}
                              onDragStart={(e) => {
                                e.dataTransfer?.setData(CAMERA_DRAG_TYPE, c.id);
                                e.dataTransfer?.setData('text/plain', c.name);
                              }}
                              onClick={() => place(c.id, targetTile())}
                            >
                              <span class="cam-name">{c.name}</span>
                              <StateBadge state={c.state} reason={c.reason} />
                            </button>
                            {c.reason && c.state !== 'streaming' && c.state !== 'idle' && <span class="tree-reason">{c.reason}</span>}
                          </li>
                        ))}
                      </ul>
                    </details>
                  </li>
                ))}
              </ul>
            </details>
          </li>
        ))}
      </ul>
    </nav>
  );
}
