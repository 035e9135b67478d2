import { Page } from '../components/page';
import { StateBadge } from '../components/state-badge';
import { now } from '../stores/clock';
import { cameras, orgName } from '../stores/store';
import { fmtAge, t, tp } from '../i18n';
import { href } from '../router';

/** Cameras with their health: school IT sees its own school's, the region's roles every school's. */
export function CamerasScreen() {
  const list = [...cameras.value].sort((a, b) => orgName(a.schoolId).localeCompare(orgName(b.schoolId)) || a.name.localeCompare(b.name));
  return (
    <Page
      title={t('cameras.title')}
      aside={
        <>
        <span class="muted">{tp('live.cameras', list.length)}</span>
        </>
      }
    >
      {list.length === 0 ? (
        <p class="empty">{t('cameras.none')}</p>
      ) : (
        <table class="data" id="camera-table">
          <thead>
            <tr>
              <th scope="col">{t('cameras.name')}</th>
              <th scope="col">{t('cameras.school')}</th>
              <th scope="col">{t('cameras.state')}</th>
              <th scope="col">{t('cameras.reason')}</th>
              <th scope="col">{t('cameras.size')}</th>
              <th scope="col">{t('cameras.updated')}</th>
              <th scope="col">
                <span class="sr-only">{t('cameras.live')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.id} data-camera={c.id} data-state={c.state}>
                <th scope="row">{c.name}</th>
                <td>{orgName(c.schoolId)}</td>
                <td>
                  <StateBadge state={c.state} reason={c.reason} />
                </td>
                <td class="reason">{c.reason ?? ''}</td>
                <td>{c.width && c.height ? `${c.width}×${c.height}` : '—'}</td>
                <td>{fmtAge(c.updatedAt, now.value)}</td>
                <td>
                  {c.live && (
                    <a class="button" href={href('/live', { camera: c.id })}>
                      {t('cameras.live')}
                    </a>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
