import { TableHead } from '../components/table-head';
import { useState } from 'preact/hooks';
import type { CameraView } from '../../../cameras/camera-view';
import type { OrgView } from '../../../orgs/org-routes';
import { StateBadge, isUp } from '../components/state-badge';
import { openAlarmsBySchool } from '../stores/alarms';
import { cameras, orgs } from '../stores/store';
import { t, tp } from '../i18n';
import { navigate } from '../router';
import { session } from '../session';

/** A school's state on the overview: all cameras up, some down, an open alarm, or no cameras. */
export type SchoolState = 'ok' | 'degraded' | 'alarm' | 'empty';

export interface SchoolSummary {
  school: OrgView;
  town: OrgView | undefined;
  cameras: CameraView[];
  up: number;
  alarms: number;
  state: SchoolState;
}

export function summarise(allOrgs: readonly OrgView[], cams: readonly CameraView[], alarmsBySchool: ReadonlyMap<string, number>): SchoolSummary[] {
  const byId = new Map(allOrgs.map((o) => [o.id, o]));
  return allOrgs
    .filter((o) => o.kind === 'school')
    .map((school) => {
      const list = cams.filter((c) => c.schoolId === school.id);
      const up = list.filter(isUp).length;
      const alarms = alarmsBySchool.get(school.id) ?? 0;
      const state: SchoolState = alarms > 0 ? 'alarm' : list.length === 0 ? 'empty' : up === list.length ? 'ok' : 'degraded';
      return { school, town: school.parentId ? byId.get(school.parentId) : undefined, cameras: list, up, alarms, state };
    })
    .sort((a, b) => (a.town?.name ?? '').localeCompare(b.town?.name ?? '') || a.school.name.localeCompare(b.school.name));
}

const W = 1000;
const H = 640;
const PAD = 110;

/**
 * Projects towns' coordinates onto the drawing: equirectangular, with longitude shrunk by
 * the cosine of the mean latitude so distances look right at this scale, fitted into the box.
 */
export function project(towns: readonly { lat: number; lon: number }[]): (p: { lat: number; lon: number }) => { x: number; y: number } {
  const meanLat = towns.reduce((s, p) => s + p.lat, 0) / Math.max(1, towns.length);
  const k = Math.cos((meanLat * Math.PI) / 180);
  const xs = towns.map((p) => p.lon * k);
  const ys = towns.map((p) => -p.lat);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min((W - 2 * PAD) / Math.max(maxX - minX, 1e-6), (H - 2 * PAD) / Math.max(maxY - minY, 1e-6));
  const offX = (W - (maxX - minX) * scale) / 2;
  const offY = (H - (maxY - minY) * scale) / 2;
  return (p) => ({ x: offX + (p.lon * k - minX) * scale, y: offY + (-p.lat - minY) * scale });
}

/** The region overview: a schematic map drawn from the towns' coordinates, and every school's state. */
export function OverviewScreen() {
  const summaries = summarise(orgs.value, cameras.value, openAlarmsBySchool.value);
  const [focus, setFocus] = useState<string | null>(null);
  const canWatch = session.value?.user.role === 'operator';
  const towns = orgs.value.filter((o): o is OrgView & { lat: number; lon: number } => o.kind === 'town' && o.lat !== null && o.lon !== null);
  const totalCams = summaries.reduce((n, s) => n + s.cameras.length, 0);
  const totalUp = summaries.reduce((n, s) => n + s.up, 0);
  const focused = summaries.find((s) => s.school.id === focus);
  return (
    <section class="overview">
      <div class="overview-head">
        <h1>{t('overview.title')}</h1>
        <p class="muted" id="overview-summary">
          {t('overview.summary', { schools: tp('overview.schoolCount', summaries.length), cameras: tp('live.cameras', totalCams), up: totalUp })}
        </p>
      </div>
      <div class="overview-body">
        <figure class="map panel">
          {towns.length === 0 ? (
            <p class="empty">{t('overview.noCoordinates')}</p>
          ) : (
            <RegionMap towns={towns} summaries={summaries} focus={focus} onFocus={setFocus} />
          )}
          <figcaption class="legend" aria-label={t('overview.legend')}>
            {(['ok', 'degraded', 'alarm', 'empty'] as const).map((s) => (
              <span key={s} class="legend-item">
                <svg width="14" height="14" aria-hidden="true">
                  <circle cx="7" cy="7" r="6" class={`school-dot ${s}`} />
                </svg>
                {t(`overview.${s}`)}
              </span>
            ))}
          </figcaption>
        </figure>
        <div class="overview-side">
          <table class="data" id="school-table">
            <caption>{t('overview.schools')}</caption>
            <TableHead cols={[t('overview.school'), t('overview.town'), t('overview.up'), t('overview.openAlarms'), t('overview.state')]} />
            <tbody>
              {summaries.map((s) => (
                <tr key={s.school.id} data-school={s.school.id} data-state={s.state} class={focus === s.school.id ? 'focused' : ''}>
                  <th scope="row">
                    <button type="button" class="link" onClick={() => setFocus(s.school.id)}>
                      {s.school.name}
                    </button>
                  </th>
                  <td>{s.town?.name ?? '—'}</td>
                  <td>{t('overview.camerasUp', { up: s.up, total: s.cameras.length })}</td>
                  <td>{s.alarms}</td>
                  <td>
                    <span class={`school-state ${s.state}`}>{t(`overview.${s.state}`)}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {focused && (
            <div class="panel school-detail" aria-live="polite">
              <h2>{focused.school.name}</h2>
              <ul class="plain">
                {focused.cameras.map((c) => (
                  <li key={c.id}>
                    {c.name} <StateBadge state={c.state} reason={c.reason} /> {c.reason && c.state !== 'streaming' && c.state !== 'idle' ? <span class="muted">{c.reason}</span> : null}
                  </li>
                ))}
              </ul>
              {canWatch && focused.cameras.some((c) => c.live) && (
                <button type="button" class="primary" onClick={() => navigate('/live', { school: focused.school.id })}>
                  {t('overview.watch')}
                </button>
              )}
            </div>
          )}
        </div>
      </div>
    </section>
  );
}

function RegionMap({
  towns,
  summaries,
  focus,
  onFocus,
}: {
  towns: (OrgView & { lat: number; lon: number })[];
  summaries: SchoolSummary[];
  focus: string | null;
  onFocus: (id: string) => void;
}) {
  const at = project(towns);
  const points = new Map(towns.map((tw) => [tw.id, at(tw)]));
  const hull = convexHull([...points.values()]);
  const outline = hull.length >= 3 ? roundedOutline(hull, 70) : '';
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t('overview.map')} class="region-map" id="region-map">
      {outline && <path d={outline} class="region-shape" />}
      {towns.map((tw) => {
        const p = points.get(tw.id)!;
        const schools = summaries.filter((s) => s.town?.id === tw.id);
        return (
          <g key={tw.id} class="town" data-town={tw.id}>
            <circle cx={p.x} cy={p.y} r="5" class="town-dot" />
            <text x={p.x} y={p.y - 16} class="town-name" text-anchor="middle">
              {tw.name}
            </text>
            {schools.map((s, i) => {
              const angle = Math.PI / 2 + (i - (schools.length - 1) / 2) * 0.7;
              const sx = p.x + Math.cos(angle) * 34;
              const sy = p.y + Math.sin(angle) * 34;
              return (
                <g
                  key={s.school.id}
                  class={`school-mark ${focus === s.school.id ? 'focused' : ''}`}
                  data-school={s.school.id}
                  data-state={s.state}
                  tabIndex={0}
                  role="button"
                  aria-label={`${s.school.name}: ${t(`overview.${s.state}`)}`}
                  onClick={() => onFocus(s.school.id)}
                  onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && onFocus(s.school.id)}
                >
                  <line x1={p.x} y1={p.y} x2={sx} y2={sy} class="school-link" />
                  <circle cx={sx} cy={sy} r="13" class={`school-dot ${s.state}`} />
                  {s.alarms > 0 && <circle cx={sx} cy={sy} r="19" class="alarm-ring" />}
                  <text x={sx} y={sy + 30} class="school-name" text-anchor="middle">
                    {s.school.name}
                  </text>
                  <text x={sx} y={sy + 4} class="school-count" text-anchor="middle">
                    {s.up}/{s.cameras.length}
                  </text>
                </g>
              );
            })}
          </g>
        );
      })}
    </svg>
  );
}

/** Andrew's monotone chain. */
function convexHull(points: { x: number; y: number }[]): { x: number; y: number }[] {
  const p = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (p.length < 3) return p;
  const cross = (o: { x: number; y: number }, a: { x: number; y: number }, b: { x: number; y: number }): number => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const lower: typeof p = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: typeof p = [];
  for (const q of [...p].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** The hull pushed out by `margin` from its centre and drawn with smooth corners: a schematic region. */
function roundedOutline(hull: { x: number; y: number }[], margin: number): string {
  const cx = hull.reduce((s, p) => s + p.x, 0) / hull.length;
  const cy = hull.reduce((s, p) => s + p.y, 0) / hull.length;
  const out = hull.map((p) => {
    const dx = p.x - cx;
    const dy = p.y - cy;
    const d = Math.hypot(dx, dy) || 1;
    return { x: p.x + (dx / d) * margin, y: p.y + (dy / d) * margin };
  });
  const mid = (a: { x: number; y: number }, b: { x: number; y: number }) => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
  const start = mid(out[out.length - 1], out[0]);
  let d = `M${start.x.toFixed(1)},${start.y.toFixed(1)}`;
  for (let i = 0; i < out.length; i++) {
    const m = mid(out[i], out[(i + 1) % out.length]);
    d += ` Q${out[i].x.toFixed(1)},${out[i].y.toFixed(1)} ${m.x.toFixed(1)},${m.y.toFixed(1)}`;
  }
  return `${d} Z`;
}
