import { useEffect, useState } from 'preact/hooks';
import type { AlarmView } from '../../../alarms/alarm-view';
import { Icon } from '../components/icons';
import { Notice, useNotice } from '../components/notice';
import { OrgOptions } from '../components/org-options';
import { Page } from '../components/page';
import { TableHead } from '../components/table-head';
import { fmtAge, fmtDateTime, t, tp } from '../i18n';
import { href } from '../router';
import { session } from '../session';
import { acknowledge, alarmHistory, fresh, muted, openAlarms, setMuted } from '../stores/alarms';
import { now } from '../stores/clock';
import { cameras, orgName, orgs } from '../stores/store';

/** Every alarm kind, in a record so the compiler refuses a missing one. */
const KINDS: Record<AlarmView['kind'], true> = { motion: true, tamper: true, camera_offline: true, gateway_offline: true };
const ALARM_KINDS = Object.keys(KINDS) as AlarmView['kind'][];

/** What an alarm is about, in words: its camera (or its school's gateway) and its school. */
function subject(a: AlarmView): string {
  return a.cameraId === null ? t('alarms.gatewayOf', { gateway: a.gatewayId }) : (a.cameraName ?? a.cameraId);
}

/** Whether the condition still holds (motion on, camera down), or ended on its own. */
function Condition({ a }: { a: AlarmView }) {
  return a.active ? <span class="badge down">{t('alarms.active')}</span> : <span class="badge neutral">{t('alarms.cleared', { at: fmtAge(a.clearedAt ?? a.lastAt, now.value) })}</span>;
}

/**
 * Alarms: the open ones (newest first, acknowledge, go to the camera) and the history of every
 * alarm in the account's scope. The list is live: the centre pushes every change.
 */
export function AlarmsScreen() {
  const role = session.value?.user.role;
  const canAck = role === 'operator';
  const watchable = new Set(cameras.value.filter((c) => c.live).map((c) => c.id));
  const note = useNotice();
  const list = openAlarms.value;
  // The list is in view: nothing here is news for the banner.
  useEffect(() => {
    fresh.value = null;
  }, [list]);
  const ack = (a: AlarmView): void => {
    note.clear();
    acknowledge(a.id).then(
      () => note.ok(t('alarms.acked', { what: `${t(`alarms.kind.${a.kind}`)} · ${subject(a)}` })),
      (err: unknown) => note.fail(err),
    );
  };
  return (
    <Page
      title={t('alarms.title')}
      aside={
        <div class="head-actions">
          <span class="muted" id="alarm-count">
            {tp('alarms.open', list.length)}
          </span>
          <MuteButton />
        </div>
      }
    >
      <Notice message={note.message} />
      {list.length === 0 ? (
        <p class="empty" id="no-alarms">
          {t('alarms.none')}
        </p>
      ) : (
        <table class="data" id="alarm-list" aria-live="polite">
          <caption class="sr-only">{t('alarms.openList')}</caption>
          <TableHead cols={[t('alarms.kind'), t('alarms.school'), t('alarms.camera'), t('alarms.age'), t('alarms.condition'), '']} />
          <tbody>
            {list.map((a) => (
              <tr key={a.id} data-alarm={a.id} data-kind={a.kind} data-camera={a.cameraId ?? ''} class={`alarm-row ${a.active ? 'active' : ''}`}>
                <th scope="row">
                  <span class={`alarm-kind ${a.kind}`}>{t(`alarms.kind.${a.kind}`)}</span>
                  {a.occurrences > 1 && <span class="muted"> ×{a.occurrences}</span>}
                  {a.late && <span class="badge pending">{t('alarms.late')}</span>}
                </th>
                <td>{orgName(a.schoolId)}</td>
                <td>{subject(a)}</td>
                <td title={fmtDateTime(a.raisedAt)} class="age">
                  {fmtAge(a.raisedAt, now.value)}
                </td>
                <td>
                  <Condition a={a} />
                  {a.reason && <div class="muted small">{a.reason}</div>}
                </td>
                <td class="row-actions">
                  {a.cameraId !== null && watchable.has(a.cameraId) && (
                    <a class="button" href={href('/live', { camera: a.cameraId })}>
                      <Icon name="camera" /> {t('alarms.show')}
                    </a>
                  )}
                  {canAck && (
                    <button type="button" class="primary ack" onClick={() => ack(a)} aria-label={`${t('alarms.ack')}: ${t(`alarms.kind.${a.kind}`)}, ${subject(a)}`}>
                      {t('alarms.ack')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AlarmHistory />
    </Page>
  );
}

/** The audible cue on or off (the visible one always stays). */
export function MuteButton() {
  return (
    <button type="button" id="alarm-mute" class={muted.value ? 'active' : ''} aria-pressed={muted.value} onClick={() => setMuted(!muted.value)}>
      {muted.value ? t('alarms.unmute') : t('alarms.mute')}
    </button>
  );
}

/** Every alarm, acknowledged ones too, with who acknowledged it and when; filtered by kind and school. */
function AlarmHistory() {
  const [rows, setRows] = useState<AlarmView[] | null>(null);
  const [kind, setKind] = useState('');
  const [school, setSchool] = useState('');
  const note = useNotice();
  // Reloaded when the open list changes (an alarm raised or acknowledged shows here at once).
  const version = openAlarms.value;
  useEffect(() => {
    alarmHistory({ kind: kind || undefined, schoolId: school || undefined }).then(setRows, (err: unknown) => note.fail(err));
  }, [kind, school, version]);
  const schools = orgs.value.filter((o) => o.kind === 'school');
  return (
    <section class="history" aria-labelledby="history-title">
      <div class="page-head">
        <h2 id="history-title">{t('alarms.history')}</h2>
        <div class="head-actions filters-inline">
          <label>
            {t('alarms.kind')}{' '}
            <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)} id="history-kind">
              <option value="">{t('common.all')}</option>
              {ALARM_KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`alarms.kind.${k}`)}
                </option>
              ))}
            </select>
          </label>
          {schools.length > 1 && (
            <label>
              {t('alarms.school')}{' '}
              <select value={school} onChange={(e) => setSchool((e.target as HTMLSelectElement).value)} id="history-school">
                <option value="">{t('common.all')}</option>
                <OrgOptions orgs={schools} />
              </select>
            </label>
          )}
        </div>
      </div>
      <Notice message={note.message} />
      {rows === null ? (
        <p class="muted">{t('common.loading')}</p>
      ) : rows.length === 0 ? (
        <p class="empty">{t('alarms.noHistory')}</p>
      ) : (
        <table class="data" id="alarm-history">
          <TableHead cols={[t('alarms.raised'), t('alarms.kind'), t('alarms.school'), t('alarms.camera'), t('alarms.condition'), t('alarms.ackedBy')]} />
          <tbody>
            {rows.map((a) => (
              <tr key={a.id} data-alarm={a.id} data-state={a.state}>
                <td class="nowrap">{fmtDateTime(a.raisedAt)}</td>
                <th scope="row">
                  {t(`alarms.kind.${a.kind}`)}
                  {a.occurrences > 1 && <span class="muted"> ×{a.occurrences}</span>}
                </th>
                <td>{orgName(a.schoolId)}</td>
                <td>{subject(a)}</td>
                <td>
                  <Condition a={a} />
                </td>
                <td class="acked-by">
                  {a.state === 'acked' ? (
                    <>
                      {a.ackedBy} <span class="muted">{a.ackedAt !== null ? fmtDateTime(a.ackedAt) : ''}</span>
                      {a.ackNote && <div class="muted small">{a.ackNote}</div>}
                    </>
                  ) : (
                    <span class="badge down">{t('alarms.unacked')}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
