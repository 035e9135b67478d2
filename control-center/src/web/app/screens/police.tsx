import type { GrantView } from '../../../grants/grant-view';
import { fmtLeft, fmtTime, t, tp } from '../i18n';
import { activeGrants, endedGrants } from '../stores/grants';
import { now } from '../stores/clock';
import { cameras, camerasReceived, orgName } from '../stores/store';
import { GrantNotice } from './grant-notice';
import { VideoTile } from './live/video-tile';

/** Names of the cameras this page was shown, so a tile whose grant ended (its camera gone from the list) still says which camera it was. */
const seenNames = new Map<string, string>();

/**
 * The police view: the force's active grants (case reference, cameras, time left counting
 * down, reason and legal basis) and a grid of every camera they open, each tile carrying its
 * grant's case reference. Grants arrive and end by the centre's pushes, with no reload; when
 * one ends its tiles stop and say why, and the notice above the grid keeps saying it.
 */
export function PoliceScreen() {
  const active = activeGrants.value;
  const byId = new Map(cameras.value.map((c) => [c.id, c]));
  for (const c of cameras.value) seenNames.set(c.id, c.name);
  // Each camera once, under the grant that runs longest.
  const tiles = new Map<string, GrantView>();
  for (const g of [...active].sort((a, b) => (b.expiresAt ?? 0) - (a.expiresAt ?? 0))) for (const id of g.cameraIds) if (!tiles.has(id)) tiles.set(id, g);
  const cut = new Map<string, GrantView>();
  for (const g of endedGrants.value) for (const id of g.cameraIds) if (!tiles.has(id)) cut.set(id, g);
  const empty = camerasReceived.value && active.length === 0;
  const n = tiles.size + cut.size;
  const cols = Math.max(1, Math.ceil(Math.sqrt(n)));
  return (
    <section class="page police" aria-label={t('police.title')}>
      <div class="page-head">
        <h1>{t('police.title')}</h1>
      </div>
      <GrantNotice />
      {empty && (
        <p id="status" class="empty police-empty" role="status">
          {t('police.empty')}
        </p>
      )}
      {active.length > 0 && (
        <ul class="grant-cards" id="police-grants" aria-label={t('police.grants')}>
          {active.map((g) => (
            <li key={g.id} class={`panel grant-card${g.emergency ? ' emergency' : ''}`} data-grant={g.id}>
              <div class="grant-card-head">
                {g.emergency && <span class="badge down">{t('grant.emergencyLabel')}</span>}
                <strong class="case-ref">{t('grant.caseRef', { caseRef: g.caseRef })}</strong>
                <span class="countdown" data-expires={g.expiresAt ?? ''}>
                  {g.expiresAt === null ? '' : `${t('grant.left', { time: fmtLeft(g.expiresAt - now.value) })} (${t('grant.until', { time: fmtTime(g.expiresAt) })})`}
                </span>
              </div>
              <p class="muted grant-where">
                {g.wholeSchoolId ? t('grant.wholeSchool', { school: orgName(g.wholeSchoolId) }) : g.schoolIds.map(orgName).join(', ')} · {tp('live.cameras', g.cameraIds.length)}
              </p>
              <ul class="grant-cameras">
                {g.cameraIds.map((id) => (
                  <li key={id}>{seenNames.get(id) ?? id}</li>
                ))}
              </ul>
              <p class="muted small">
                {t('police.reason', { reason: g.reason })} · {t('police.legalBasis', { basis: g.legalBasis })}
              </p>
            </li>
          ))}
        </ul>
      )}
      {n > 0 && (
        <div class="wall police-wall" id="grid" style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))` }}>
          {[...tiles].map(([id, g], i) => {
            const cam = byId.get(id);
            return (
              <div key={id} class="tile" data-slot={i} data-grant={g.id}>
                {cam?.live ? <VideoTile camera={cam} profile={n === 1 ? 'main' : 'sub'} index={i + 1} caseRef={g.caseRef} /> : <p class="tile-placeholder">{cam?.name ?? id}</p>}
              </div>
            );
          })}
          {[...cut].map(([id, g]) => (
            <div key={`cut:${id}`} class="tile cut" data-camera={id} data-grant={g.id}>
              <p class="tile-placeholder" role="status">
                <strong>{seenNames.get(id) ?? id}</strong>
                <br />
                {t(`grant.cut.${g.state === 'expired' ? 'expired' : 'revoked'}`, { caseRef: g.caseRef })}
              </p>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
