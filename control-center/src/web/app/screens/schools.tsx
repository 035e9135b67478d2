import { CreateForm } from '../components/create-form';
import { Page } from '../components/page';
import { OrgOptions } from '../components/org-options';
import { TableHead } from '../components/table-head';
import { useState } from 'preact/hooks';
import type { OrgView } from '../../../orgs/org-routes';
import { api } from '../api';
import { Notice, useNotice } from '../components/notice';
import { cameras, orgs, reloadOrgs } from '../stores/store';
import { fmtNumber, t } from '../i18n';

/** Schools and towns: create a school in a town, rename, and place towns on the region map. */
export function SchoolsScreen() {
  const notice = useNotice();
  const towns = orgs.value.filter((o) => o.kind === 'town').sort((a, b) => a.name.localeCompare(b.name));
  const schools = orgs.value.filter((o) => o.kind === 'school').sort((a, b) => a.name.localeCompare(b.name));
  const run = (p: Promise<unknown>, ok: string): void => {
    p.then(async () => {
      notice.ok(ok);
      await reloadOrgs();
    }).catch(notice.fail);
  };
  const create = (ev: Event): void => {
    ev.preventDefault();
    const f = ev.currentTarget as HTMLFormElement;
    const value = (n: string): string => (f.elements.namedItem(n) as HTMLInputElement).value.trim();
    const name = value('name');
    run(
      api('POST', '/api/orgs', { id: value('id'), kind: 'school', name, parentId: value('parentId') }).then(() => f.reset()),
      t('schools.created', { name }),
    );
  };
  return (
    <Page title={t('schools.title')}>
      <CreateForm id="create-school" title={t('schools.create')} onSubmit={create}>
        <label>
          <span>{t('schools.id')}</span>
          <input name="id" required minLength={2} maxLength={64} pattern="[a-z0-9][a-z0-9\-]*" />
        </label>
        <label>
          <span>{t('schools.name')}</span>
          <input name="name" required maxLength={200} />
        </label>
        <label>
          <span>{t('schools.town')}</span>
          <select name="parentId" required>
            <OrgOptions orgs={towns} />
          </select>
        </label>
      </CreateForm>
      <Notice message={notice.message} />
      <div class="two-col">
        <table class="data" id="school-list">
          <caption>{t('nav.schools')}</caption>
          <TableHead cols={[t('schools.name'), t('schools.town'), t('schools.cameras'), t('users.actions')]} />
          <tbody>
            {schools.map((s) => (
              <SchoolRow key={s.id} school={s} towns={towns} onSave={(body, ok) => run(api('PATCH', `/api/orgs/${s.id}`, body), ok)} />
            ))}
          </tbody>
        </table>
        <table class="data" id="town-list">
          <caption>{t('schools.towns')}</caption>
          <TableHead cols={[t('schools.town'), t('schools.lat'), t('schools.lon'), t('users.actions')]} />
          <tbody>
            {towns.map((town) => (
              <TownRow key={town.id} town={town} onSave={(body) => run(api('PATCH', `/api/orgs/${town.id}`, body), t('schools.saved'))} />
            ))}
          </tbody>
        </table>
      </div>
    </Page>
  );
}

function SchoolRow({ school, towns, onSave }: { school: OrgView; towns: OrgView[]; onSave: (body: { name?: string; parentId?: string }, ok: string) => void }) {
  const [edit, setEdit] = useState(false);
  const [name, setName] = useState(school.name);
  const [town, setTown] = useState(school.parentId ?? '');
  const count = cameras.value.filter((c) => c.schoolId === school.id).length;
  return (
    <tr data-school={school.id}>
      <th scope="row">
        {edit ? (
          <label>
            <span class="sr-only">{t('schools.name')}</span>
            <input value={name} maxLength={200} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
        ) : (
          school.name
        )}
      </th>
      <td>
        {edit ? (
          <label>
            <span class="sr-only">{t('schools.town')}</span>
            <select value={town} onChange={(e) => setTown((e.target as HTMLSelectElement).value)}>
              <OrgOptions orgs={towns} />
            </select>
          </label>
        ) : (
          (towns.find((x) => x.id === school.parentId)?.name ?? '—')
        )}
      </td>
      <td>{fmtNumber(count)}</td>
      <td class="actions">
        {edit ? (
          <>
            <button
              type="button"
              class="primary"
              onClick={() => {
                onSave({ name: name.trim(), parentId: town }, t('schools.saved'));
                setEdit(false);
              }}
            >
              {t('common.save')}
            </button>
            <button type="button" onClick={() => setEdit(false)}>
              {t('common.cancel')}
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setEdit(true)} aria-label={`${t('common.edit')}: ${school.name}`}>
            {t('common.edit')}
          </button>
        )}
      </td>
    </tr>
  );
}

function TownRow({ town, onSave }: { town: OrgView; onSave: (body: { lat: number; lon: number }) => void }) {
  const [lat, setLat] = useState(town.lat?.toString() ?? '');
  const [lon, setLon] = useState(town.lon?.toString() ?? '');
  const valid = lat !== '' && lon !== '' && Number.isFinite(Number(lat)) && Number.isFinite(Number(lon));
  return (
    <tr data-town={town.id}>
      <th scope="row">{town.name}</th>
      <td>
        <label>
          <span class="sr-only">
            {t('schools.lat')}: {town.name}
          </span>
          <input class="num" inputMode="decimal" value={lat} onInput={(e) => setLat((e.target as HTMLInputElement).value)} />
        </label>
      </td>
      <td>
        <label>
          <span class="sr-only">
            {t('schools.lon')}: {town.name}
          </span>
          <input class="num" inputMode="decimal" value={lon} onInput={(e) => setLon((e.target as HTMLInputElement).value)} />
        </label>
      </td>
      <td>
        <button type="button" disabled={!valid} onClick={() => onSave({ lat: Number(lat), lon: Number(lon) })} aria-label={`${t('common.save')}: ${town.name}`}>
          {t('common.save')}
        </button>
      </td>
    </tr>
  );
}
