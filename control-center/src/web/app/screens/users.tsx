import { CreateForm } from '../components/create-form';
import { RoleSelect } from '../components/role-select';
import { Page } from '../components/page';
import { OrgOptions } from '../components/org-options';
import { TableHead } from '../components/table-head';
import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import { ROLE_ORG_KIND, type Role } from '../../../access/principal';
import type { UserView } from '../../../users/user-routes';
import { api } from '../api';
import { Notice, useNotice } from '../components/notice';
import { orgName, orgs } from '../stores/store';
import { fmtDateTime, t } from '../i18n';

const users = signal<UserView[]>([]);

async function reload(): Promise<void> {
  users.value = (await api<{ users: UserView[] }>('GET', '/api/users')).users;
}

/** A password an administrator can read out: 16 characters from an unambiguous alphabet. */
export function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

function OrgSelect({ role, value, onChange, id }: { role: Role; value: string; onChange: (v: string) => void; id: string }) {
  const choices = orgs.value.filter((o) => o.kind === ROLE_ORG_KIND[role]).sort((a, b) => a.name.localeCompare(b.name));
  return (
    <select id={id} name="orgId" value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)} required>
      <OrgOptions orgs={choices} />
    </select>
  );
}

/** Accounts: create, disable and enable, reset the password, change role and organisation. */
export function UsersScreen() {
  const notice = useNotice();
  const [role, setRole] = useState<Role>('school_it');
  const [orgId, setOrgId] = useState('');
  const [password, setPassword] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  useEffect(() => {
    void reload().catch(notice.fail);
  }, []);
  const firstOrg = (r: Role): string => orgs.value.filter((o) => o.kind === ROLE_ORG_KIND[r]).sort((a, b) => a.name.localeCompare(b.name))[0]?.id ?? '';
  const effectiveOrg = orgId && orgs.value.find((o) => o.id === orgId)?.kind === ROLE_ORG_KIND[role] ? orgId : firstOrg(role);

  const create = (ev: Event): void => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const username = (form.elements.namedItem('username') as HTMLInputElement).value.trim();
    void api<UserView>('POST', '/api/users', { username, password, role, orgId: effectiveOrg })
      .then(async (u) => {
        notice.ok(t('users.created', { user: u.username, password }));
        form.reset();
        setPassword('');
        await reload();
      })
      .catch(notice.fail);
  };
  const patch = (u: UserView, body: Record<string, unknown>, done: string): void => {
    void api<UserView>('PATCH', `/api/users/${u.id}`, body)
      .then(async () => {
        notice.ok(done);
        setEditing(null);
        await reload();
      })
      .catch(notice.fail);
  };

  return (
    <Page title={t('users.title')}>
      <CreateForm id="create-user" title={t('users.create')} onSubmit={create}>
        <label>
          <span>{t('users.username')}</span>
          <input name="username" required minLength={3} maxLength={64} pattern="[a-z0-9][a-z0-9._\-]*" autocomplete="off" />
        </label>
        <label>
          <span>{t('users.password')}</span>
          <span class="with-button">
            <input name="password" type="text" required minLength={10} maxLength={256} value={password} autocomplete="new-password" onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
            <button type="button" onClick={() => setPassword(generatePassword())}>
              {t('users.generate')}
            </button>
          </span>
        </label>
        <label>
          <span>{t('users.role')}</span>
          <RoleSelect name="role" value={role} onChange={setRole} />
        </label>
        <label>
          <span>{t('users.org')}</span>
          <OrgSelect id="new-user-org" role={role} value={effectiveOrg} onChange={setOrgId} />
        </label>
      </CreateForm>
      <Notice message={notice.message} />
      <table class="data" id="user-table">
        <TableHead cols={[t('users.username'), t('users.role'), t('users.org'), t('users.totp'), t('users.state'), t('cameras.updated'), t('users.actions')]} />
        <tbody>
          {users.value.map((u) => (
            <tr key={u.id} data-user={u.username}>
              <th scope="row">{u.username}</th>
              <td>{t(`role.${u.role}`)}</td>
              <td>{orgName(u.orgId)}</td>
              <td>{u.totp ? t('common.yes') : t('common.no')}</td>
              <td>{u.disabled ? t('users.disabled') : t('users.active')}</td>
              <td>{fmtDateTime(u.updatedAt)}</td>
              <td class="actions">
                {editing === u.id ? (
                  <EditUser user={u} onSave={(body) => patch(u, body, t('users.updated', { user: u.username }))} onCancel={() => setEditing(null)} />
                ) : (
                  <>
                    <button type="button" onClick={() => setEditing(u.id)} aria-label={`${t('users.change')}: ${u.username}`}>
                      {t('users.change')}
                    </button>
                    <button
                      type="button"
                      aria-label={`${t('users.reset')}: ${u.username}`}
                      onClick={() => {
                        const pw = generatePassword();
                        patch(u, { password: pw }, t('users.resetDone', { user: u.username, password: pw }));
                      }}
                    >
                      {t('users.reset')}
                    </button>
                    <button
                      type="button"
                      class={u.disabled ? '' : 'danger'}
                      aria-label={`${u.disabled ? t('users.enable') : t('users.disable')}: ${u.username}`}
                      onClick={() => {
                        if (!u.disabled && !window.confirm(t('users.confirmDisable', { user: u.username }))) return;
                        patch(u, { disabled: !u.disabled }, t('users.updated', { user: u.username }));
                      }}
                    >
                      {u.disabled ? t('users.enable') : t('users.disable')}
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

function EditUser({ user, onSave, onCancel }: { user: UserView; onSave: (body: { role: Role; orgId: string }) => void; onCancel: () => void }) {
  const [role, setRole] = useState<Role>(user.role);
  const [orgId, setOrgId] = useState(user.orgId);
  const valid = orgs.value.find((o) => o.id === orgId)?.kind === ROLE_ORG_KIND[role];
  const org = valid ? orgId : (orgs.value.find((o) => o.kind === ROLE_ORG_KIND[role])?.id ?? '');
  return (
    <span class="inline-edit">
      <label>
        <span class="sr-only">{t('users.role')}</span>
        <RoleSelect value={role} onChange={setRole} />
      </label>
      <label>
        <span class="sr-only">{t('users.org')}</span>
        <OrgSelect id={`org-${user.id}`} role={role} value={org} onChange={setOrgId} />
      </label>
      <button type="button" class="primary" onClick={() => onSave({ role, orgId: org })}>
        {t('common.save')}
      </button>
      <button type="button" onClick={onCancel}>
        {t('common.cancel')}
      </button>
    </span>
  );
}
