import { useEffect, useState } from 'preact/hooks';
import type { CreatedGrant } from '../../../grants/grant-routes';
import type { GrantView } from '../../../grants/grant-view';
import type { WatcherView } from '../../../viewer/watching-routes';
import { Notice, useNotice } from '../components/notice';
import { OrgOptions } from '../components/org-options';
import { Page } from '../components/page';
import { TableHead } from '../components/table-head';
import { fmtAge, fmtLeft, t, tp } from '../i18n';
import { now } from '../stores/clock';
import { approveGrant, createGrant, extendGrant, openGrants, raiseEmergency, revokeGrant, watchers } from '../stores/grants';
import { cameras, orgName, orgs } from '../stores/store';
import { session } from '../session';
import { GrantNotice } from './grant-notice';

/** How often "who is watching" asks again (the centre has no push for it). */
const WATCHERS_POLL_MS = 3000;

/**
 * Sharing with the municipal police. Operators: the share form (a school or chosen cameras, a
 * force, reason, case reference, legal basis, length) with the RTSP URLs the centre hands out
 * for the police's own video system, and the running and waiting grants with approve (a second
 * operator), extend (a reason) and end. School IT: the school's emergency button and the running
 * emergency. Both: who is watching the school's cameras now.
 */
export function SharingScreen() {
  const s = session.value!;
  const operator = s.user.role === 'operator';
  const schools = orgs.value.filter((o) => o.kind === 'school').sort((a, b) => a.name.localeCompare(b.name));
  const [school, setSchool] = useState(s.user.role === 'school_it' ? s.user.org : '');
  const shownSchool = school || schools[0]?.id || '';
  return (
    <Page title={t('sharing.title')}>
      <GrantNotice />
      {operator && <ShareForm />}
      <GrantList />
      <div class="panel form-grid" id="school-pick" hidden={!operator}>
        <label>
          <span>{t('sharing.school')}</span>
          <select value={shownSchool} onChange={(e) => setSchool(e.currentTarget.value)}>
            <OrgOptions orgs={schools} />
          </select>
        </label>
      </div>
      {shownSchool && <EmergencyPanel schoolId={shownSchool} />}
      {shownSchool && <Watching schoolId={shownSchool} />}
    </Page>
  );
}

function ShareForm() {
  const notice = useNotice();
  const [whole, setWhole] = useState(true);
  const [created, setCreated] = useState<CreatedGrant | null>(null);
  const forces = orgs.value.filter((o) => o.kind === 'police').sort((a, b) => a.name.localeCompare(b.name));
  const schools = orgs.value.filter((o) => o.kind === 'school').sort((a, b) => a.name.localeCompare(b.name));
  const submit = (ev: Event): void => {
    ev.preventDefault();
    const f = ev.currentTarget as HTMLFormElement;
    const value = (n: string): string => (f.elements.namedItem(n) as HTMLInputElement).value.trim();
    const chosen = [...f.querySelectorAll<HTMLInputElement>('input[name="cameraIds"]:checked')].map((x) => x.value);
    if (!whole && chosen.length === 0) {
      notice.fail(new Error(t('sharing.pickCamera')));
      return;
    }
    void createGrant({
      forceId: value('forceId'),
      ...(whole ? { schoolId: value('schoolId') } : { cameraIds: chosen }),
      reason: value('reason'),
      caseRef: value('caseRef'),
      legalBasis: value('legalBasis'),
      minutes: Number(value('minutes')),
      snapshots: (f.elements.namedItem('snapshots') as HTMLInputElement).checked,
    })
      .then((g) => {
        setCreated(g);
        notice.ok(t('sharing.created', { caseRef: g.caseRef, state: t(`grant.state.${g.state}`) }));
      })
      .catch(notice.fail);
  };
  return (
    <form class="panel form-grid share-form" id="grant-form" onSubmit={submit} aria-labelledby="grant-form-title">
      <h2 id="grant-form-title">{t('sharing.form')}</h2>
      <label>
        <span>{t('sharing.force')}</span>
        <select name="forceId" required>
          <OrgOptions orgs={forces} />
        </select>
      </label>
      <fieldset class="what">
        <legend>{t('sharing.what')}</legend>
        <label class="inline">
          <input type="radio" name="what" value="school" checked={whole} onChange={() => setWhole(true)} /> {t('sharing.wholeSchool')}
        </label>
        <label class="inline">
          <input type="radio" name="what" value="cameras" checked={!whole} onChange={() => setWhole(false)} /> {t('sharing.chosenCameras')}
        </label>
      </fieldset>
      {whole ? (
        <label>
          <span>{t('sharing.school')}</span>
          <select name="schoolId" required>
            <OrgOptions orgs={schools} />
          </select>
        </label>
      ) : (
        <fieldset class="camera-picks">
          <legend>{t('sharing.cameras')}</legend>
          {cameras.value.map((c) => (
            <label key={c.id} class="inline">
              <input type="checkbox" name="cameraIds" value={c.id} /> {c.name} <span class="muted">({orgName(c.schoolId)})</span>
            </label>
          ))}
        </fieldset>
      )}
      <label>
        <span>{t('sharing.caseRef')}</span>
        <input name="caseRef" required maxLength={100} />
      </label>
      <label>
        <span>{t('sharing.reason')}</span>
        <input name="reason" required maxLength={500} />
      </label>
      <label>
        <span>{t('sharing.legalBasis')}</span>
        <input name="legalBasis" required maxLength={300} placeholder="§ 8 zák. 553/1991 Sb." />
      </label>
      <label>
        <span>{t('sharing.minutes')}</span>
        <input name="minutes" type="number" min={1} max={43200} defaultValue="60" required />
      </label>
      <label class="inline">
        <input name="snapshots" type="checkbox" /> {t('sharing.snapshots')}
      </label>
      <button type="submit" class="primary">
        {t('sharing.submit')}
      </button>
      <Notice message={notice.message} />
      {created && (
        <div class="token-box" id="grant-rtsp" role="status">
          <p>{created.rtsp.length > 0 ? t('sharing.rtsp') : t('sharing.noRtsp')}</p>
          {created.rtsp.length > 0 && (
            <ul>
              {created.rtsp.map((r) => (
                <li key={r.cameraId}>
                  <code>{r.url}</code>
                </li>
              ))}
            </ul>
          )}
          <button type="button" onClick={() => setCreated(null)}>
            {t('common.close')}
          </button>
        </div>
      )}
    </form>
  );
}

/** Running and waiting grants, with what the account may do to each (the centre decides again). */
function GrantList() {
  const notice = useNotice();
  const s = session.value!;
  const role = s.user.role;
  const list = openGrants.value.filter((g) => role !== 'school_it' || g.schoolIds.includes(s.user.org));
  const act = (p: Promise<unknown>): void => void p.then(() => notice.clear()).catch(notice.fail);
  const extend = (g: GrantView): void => {
    const reason = window.prompt(t('sharing.extendReason'))?.trim();
    if (!reason) return;
    const minutes = Number(window.prompt(t('sharing.extendMinutes'), '30'));
    if (!Number.isInteger(minutes) || minutes < 1) return;
    act(extendGrant(g.id, minutes, reason));
  };
  const mayEnd = (g: GrantView): boolean => role === 'operator' || role === 'admin' || (role === 'school_it' && g.schoolIds.every((x) => x === s.user.org));
  return (
    <div class="panel" id="grants">
      <h2>{t('sharing.list')}</h2>
      <Notice message={notice.message} />
      {list.length === 0 ? (
        <p class="empty">{t('sharing.none')}</p>
      ) : (
        <table class="data" id="grant-table">
          <TableHead cols={[t('sharing.col.caseRef'), t('sharing.col.force'), t('sharing.col.what'), t('sharing.col.state'), t('sharing.col.left'), t('sharing.col.by'), t('users.actions')]} />
          <tbody>
            {list.map((g) => (
              <tr key={g.id} data-grant={g.id} data-state={g.state} class={g.emergency ? 'emergency' : ''}>
                <th scope="row">
                  {g.emergency && <span class="badge down">{t('grant.emergencyLabel')}</span>} {g.caseRef}
                  <div class="muted small">{g.reason}</div>
                </th>
                <td>{orgName(g.forceId)}</td>
                <td>
                  {g.wholeSchoolId ? t('grant.wholeSchool', { school: orgName(g.wholeSchoolId) }) : g.schoolIds.map(orgName).join(', ')} · {tp('live.cameras', g.cameraIds.length)}
                </td>
                <td>{t(`grant.state.${g.state}`)}</td>
                <td class="countdown">{g.expiresAt === null ? '—' : fmtLeft(g.expiresAt - now.value)}</td>
                <td>{g.createdBy}</td>
                <td class="actions">
                  {role === 'operator' && (g.state === 'pending' || g.state === 'requested') && (
                    <button type="button" class="primary" title={t('sharing.twoPerson')} onClick={() => act(approveGrant(g.id))}>
                      {t('sharing.approve')}
                    </button>
                  )}
                  {role === 'operator' && g.state === 'active' && (
                    <button type="button" onClick={() => extend(g)}>
                      {t('sharing.extend')}
                    </button>
                  )}
                  {mayEnd(g) && (
                    <button type="button" class="danger" onClick={() => window.confirm(t('sharing.confirmRevoke', { caseRef: g.caseRef })) && act(revokeGrant(g.id))}>
                      {t('sharing.revoke')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** A school's emergency: the button (with a confirmation) while none runs; the running one with its time left and an end button. */
function EmergencyPanel({ schoolId }: { schoolId: string }) {
  const notice = useNotice();
  const [reason, setReason] = useState('');
  const running = openGrants.value.find((g) => g.emergency && g.state === 'active' && g.wholeSchoolId === schoolId);
  const school = orgName(schoolId);
  const raise = (): void => {
    if (!window.confirm(t('emergency.confirm', { school }))) return;
    void raiseEmergency(schoolId, reason.trim() || undefined)
      .then(() => {
        setReason('');
        notice.clear();
      })
      .catch(notice.fail);
  };
  const end = (g: GrantView): void => {
    if (!window.confirm(t('emergency.confirmEnd'))) return;
    void revokeGrant(g.id).then(() => notice.clear(), notice.fail);
  };
  return (
    <div class={`panel emergency-panel${running ? ' running' : ''}`} id="emergency-panel" data-school={schoolId}>
      <h2>
        {t('emergency.title')} · {school}
      </h2>
      {running ? (
        <div class="emergency-running" role="alert" data-grant={running.id}>
          <p>
            <strong>{t('emergency.running', { school, force: orgName(running.forceId) })}</strong>{' '}
            <span class="countdown">{running.expiresAt === null ? '' : t('grant.left', { time: fmtLeft(running.expiresAt - now.value) })}</span>
          </p>
          <p class="muted">{t('grant.caseRef', { caseRef: running.caseRef })}</p>
          <button type="button" class="danger big" id="emergency-end" onClick={() => end(running)}>
            {t('emergency.end')}
          </button>
        </div>
      ) : (
        <>
          <p class="muted">{t('emergency.help')}</p>
          <label>
            <span>{t('emergency.reason')}</span>
            <input value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <button type="button" class="danger big" id="emergency" onClick={raise}>
            {t('emergency.raise')}
          </button>
        </>
      )}
      <Notice message={notice.message} />
    </div>
  );
}

/** Who is watching the school's cameras now: user, organisation, since when, under which grant. Asked again every few seconds. */
function Watching({ schoolId }: { schoolId: string }) {
  const [list, setList] = useState<WatcherView[] | null>(null);
  const notice = useNotice();
  useEffect(() => {
    let live = true;
    const load = (): void =>
      void watchers({ schoolId })
        .then((v) => {
          if (live) setList(v);
        })
        .catch((err: unknown) => live && notice.fail(err));
    load();
    const timer = window.setInterval(load, WATCHERS_POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [schoolId]);
  const names = new Map(cameras.value.map((c) => [c.id, c.name]));
  return (
    <div class="panel" id="watching" data-school={schoolId}>
      <h2>
        {t('watching.title')} · {orgName(schoolId)}
      </h2>
      <Notice message={notice.message} />
      {list && list.length === 0 && <p class="empty">{t('watching.none')}</p>}
      {list && list.length > 0 && (
        <table class="data">
          <TableHead cols={[t('watching.camera'), t('watching.user'), t('watching.org'), t('watching.since'), t('watching.grant')]} />
          <tbody>
            {list.map((w) => (
              <tr key={`${w.cameraId}:${w.user}:${w.since}`} data-camera={w.cameraId} data-user={w.user}>
                <td>{names.get(w.cameraId) ?? w.cameraId}</td>
                <td>
                  {w.user} <span class="muted">({t(`role.${w.role}`)})</span>
                </td>
                <td>{orgName(w.organisation)}</td>
                <td>{fmtAge(w.since, now.value)}</td>
                <td>{w.grant ? t('grant.caseRef', { caseRef: w.grant.caseRef ?? w.grant.id }) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
