import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { CameraView } from '../../../cameras/camera-view';
import { api } from '../api';
import { Notice, useNotice } from '../components/notice';
import { Page } from '../components/page';
import { StateBadge } from '../components/state-badge';
import { TableHead } from '../components/table-head';
import { now } from '../stores/clock';
import { cameras, orgName } from '../stores/store';
import { fmtAge, fmtNumber, t, tp } from '../i18n';
import { href } from '../router';
import { session } from '../session';
import { CameraFactsFields, type FactsDraft, factsBody } from './register/camera-facts';

/** What the gateway last measured of a camera, in a few words. */
function healthText(c: CameraView): string {
  const h = c.health;
  if (!h) return t('common.none');
  const parts = [h.online === false ? t('cameras.notAnswering') : h.fps > 0 ? `${fmtNumber(Math.round(h.fps))} fps · ${fmtNumber(Math.round(h.bitrateKbps))} kb/s` : t('cameras.notPulled')];
  if (h.events === 'failing') parts.push(t('cameras.eventsFailing'));
  if (h.reconnects > 0) parts.push(tp('cameras.reconnects', h.reconnects));
  return parts.join(' · ');
}

/**
 * Cameras with their health: school IT sees its own school's (and registers, edits and removes
 * them), the region's roles every school's.
 */
export function CamerasScreen() {
  const role = session.value?.user.role;
  const manage = role === 'school_it' || role === 'admin';
  const list = [...cameras.value].sort((a, b) => orgName(a.schoolId).localeCompare(orgName(b.schoolId)) || a.name.localeCompare(b.name));
  const [editing, setEditing] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const note = useNotice();
  const remove = (c: CameraView): void => {
    note.clear();
    api('DELETE', `/api/cameras/${encodeURIComponent(c.id)}`).then(
      () => {
        setRemoving(null);
        note.ok(t('cameras.removed', { name: c.name }));
      },
      (err: unknown) => note.fail(err),
    );
  };
  return (
    <Page
      title={t('cameras.title')}
      aside={
        <div class="head-actions">
          <span class="muted">{tp('live.cameras', list.length)}</span>
          {manage && (
            <a class="button primary" href={href('/register')} id="register-camera">
              {t('cameras.register')}
            </a>
          )}
        </div>
      }
    >
      <Notice message={note.message} />
      {list.length === 0 ? (
        <p class="empty">{t('cameras.none')}</p>
      ) : (
        <table class="data" id="camera-table">
          <TableHead
            cols={[
              t('cameras.name'),
              t('cameras.school'),
              t('cameras.state'),
              t('cameras.health'),
              t('cameras.size'),
              t('cameras.purpose'),
              t('cameras.updated'),
              <span class="sr-only">{t('cameras.actions')}</span>,
            ]}
          />
          <tbody>
            {list.map((c) => (
              <Fragment key={c.id}>
                <tr data-camera={c.id} data-state={c.state}>
                  <th scope="row">{c.name}</th>
                  <td>{orgName(c.schoolId)}</td>
                  <td>
                    <StateBadge state={c.state} reason={c.reason} />
                    {c.reason && c.state !== 'streaming' && c.state !== 'idle' && <div class="reason">{c.reason}</div>}
                  </td>
                  <td class="detail">{healthText(c)}</td>
                  <td>{c.width && c.height ? `${c.width}×${c.height}` : '—'}</td>
                  <td class="detail">
                    {c.registration ? (
                      <>
                        {c.registration.purpose}
                        <div>
                          {c.registration.legalBasis} · {tp('cameras.retention', c.registration.retentionHours)}
                        </div>
                      </>
                    ) : (
                      t('cameras.noRecord')
                    )}
                  </td>
                  <td>{fmtAge(c.updatedAt, now.value)}</td>
                  <td class="row-actions">
                    {c.live && (
                      <a class="button" href={href('/live', { camera: c.id })}>
                        {t('cameras.live')}
                      </a>
                    )}
                    {manage && (
                      <button type="button" class="edit" onClick={() => setEditing(editing === c.id ? null : c.id)} aria-expanded={editing === c.id} aria-label={`${t('common.edit')}: ${c.name}`}>
                        {t('common.edit')}
                      </button>
                    )}
                    {manage &&
                      (removing === c.id ? (
                        <span class="confirm" role="group" aria-label={t('cameras.confirmRemove', { name: c.name })}>
                          {t('cameras.confirmRemove', { name: c.name })}{' '}
                          <button type="button" class="danger confirm-remove" onClick={() => remove(c)}>
                            {t('common.delete')}
                          </button>
                          <button type="button" onClick={() => setRemoving(null)}>
                            {t('common.cancel')}
                          </button>
                        </span>
                      ) : (
                        <button type="button" class="remove" onClick={() => setRemoving(c.id)} aria-label={`${t('common.delete')}: ${c.name}`}>
                          {t('common.delete')}
                        </button>
                      ))}
                  </td>
                </tr>
                {editing === c.id && (
                  <tr class="edit-row">
                    <td colSpan={8}>
                      <EditFacts camera={c} onDone={(text) => (setEditing(null), text && note.ok(text))} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

/** Changes a camera's purpose, legal basis, retention or schedule (audited by the centre). */
function EditFacts({ camera, onDone }: { camera: CameraView; onDone: (text?: string) => void }) {
  const r = camera.registration;
  const [facts, setFacts] = useState<FactsDraft>({
    name: camera.name,
    purpose: r?.purpose ?? '',
    legalBasis: r?.legalBasis ?? '',
    retentionHours: String(r?.retentionHours ?? 72),
    schedule: r?.schedule ?? '',
  });
  const note = useNotice();
  const submit = (e: Event): void => {
    e.preventDefault();
    note.clear();
    api('PATCH', `/api/cameras/${encodeURIComponent(camera.id)}`, factsBody(facts)).then(
      () => onDone(t('cameras.saved', { name: camera.name })),
      (err: unknown) => note.fail(err),
    );
  };
  return (
    <form class="form-grid edit-facts" onSubmit={submit} aria-label={`${t('common.edit')}: ${camera.name}`}>
      <CameraFactsFields value={facts} onChange={setFacts} />
      <Notice message={note.message} />
      <div class="wizard-buttons span-all">
        <button type="button" onClick={() => onDone()}>
          {t('common.cancel')}
        </button>
        <button type="submit" class="primary">
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}
