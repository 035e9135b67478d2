import { CreateForm } from '../components/create-form';
import { Page } from '../components/page';
import { OrgOptions } from '../components/org-options';
import { TableHead } from '../components/table-head';
import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import type { CreatedGateway, GatewayView } from '../../../gateways/gateway-routes';
import { api } from '../api';
import { Icon } from '../components/icons';
import { Notice, useNotice } from '../components/notice';
import { now } from '../stores/clock';
import { orgName, orgs } from '../stores/store';
import { fmtAge, fmtDateTime, t } from '../i18n';

const gateways = signal<GatewayView[]>([]);

async function reload(): Promise<void> {
  gateways.value = (await api<{ gateways: GatewayView[] }>('GET', '/api/gateways')).gateways;
}

/** School gateways: create one (its one-time enrolment token is shown once), see their state, revoke. */
export function GatewaysScreen() {
  const notice = useNotice();
  const [created, setCreated] = useState<CreatedGateway | null>(null);
  useEffect(() => {
    void reload().catch(notice.fail);
    const timer = window.setInterval(() => void reload().catch(() => undefined), 5000);
    return () => window.clearInterval(timer);
  }, []);
  const schools = orgs.value.filter((o) => o.kind === 'school').sort((a, b) => a.name.localeCompare(b.name));
  const create = (ev: Event): void => {
    ev.preventDefault();
    const f = ev.currentTarget as HTMLFormElement;
    const value = (n: string): string => (f.elements.namedItem(n) as HTMLInputElement).value.trim();
    const id = value('id');
    void api<CreatedGateway>('POST', '/api/gateways', { ...(id ? { id } : {}), schoolId: value('schoolId'), name: value('name') })
      .then(async (res) => {
        setCreated(res);
        notice.clear();
        f.reset();
        await reload();
      })
      .catch(notice.fail);
  };
  const revoke = (g: GatewayView): void => {
    if (!window.confirm(t('gateways.confirmRevoke', { id: g.id }))) return;
    void api('POST', `/api/gateways/${g.id}/revoke`)
      .then(reload)
      .catch(notice.fail);
  };
  return (
    <Page title={t('gateways.title')}>
      <CreateForm id="create-gateway" title={t('gateways.create')} onSubmit={create}>
        <label>
          <span>{t('gateways.school')}</span>
          <select name="schoolId" required>
            <OrgOptions orgs={schools} />
          </select>
        </label>
        <label>
          <span>{t('gateways.name')}</span>
          <input name="name" required maxLength={200} />
        </label>
        <label>
          <span>{t('gateways.id')}</span>
          <input name="id" minLength={2} maxLength={64} pattern="[a-z0-9][a-z0-9\-]*" />
        </label>
      </CreateForm>
      {created && (
        <div class="panel token-box" role="alert" id="enrolment-token">
          <h2>{t('gateways.token', { id: created.gateway.id })}</h2>
          <p>{t('gateways.tokenOnce', { until: fmtDateTime(created.enrolment.expiresAt) })}</p>
          <pre>
            <code>{created.enrolment.command}</code>
          </pre>
          <button type="button" onClick={() => void navigator.clipboard?.writeText(created.enrolment.command).catch(() => undefined)}>
            <Icon name="copy" /> {t('gateways.copy')}
          </button>
          <button type="button" onClick={() => setCreated(null)}>
            {t('common.close')}
          </button>
        </div>
      )}
      <Notice message={notice.message} />
      <table class="data" id="gateway-table">
        <TableHead cols={['Id', t('gateways.name'), t('gateways.school'), t('gateways.state'), t('gateways.online'), t('gateways.lastSeen'), t('users.actions')]} />
        <tbody>
          {gateways.value.map((g) => (
            <tr key={g.id} data-gateway={g.id} data-state={g.state}>
              <th scope="row">{g.id}</th>
              <td>{g.name}</td>
              <td>{orgName(g.schoolId)}</td>
              <td>{t(`gateways.state.${g.state}`)}</td>
              <td>
                <span class={`badge ${g.online ? 'ok' : 'down'}`}>{g.online ? t('gateways.up') : t('gateways.down')}</span>
              </td>
              <td>{g.lastSeenAt ? fmtAge(g.lastSeenAt, now.value) : '—'}</td>
              <td class="actions">
                {g.state !== 'revoked' && (
                  <button type="button" class="danger" onClick={() => revoke(g)} aria-label={`${t('gateways.revoke')}: ${g.id}`}>
                    {t('gateways.revoke')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}
