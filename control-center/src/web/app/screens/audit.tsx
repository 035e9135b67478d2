import { OrgOptions } from '../components/org-options';
import { TableHead } from '../components/table-head';
import { useEffect, useState } from 'preact/hooks';
import type { AuditEntry, VerifyBody } from '../../../audit/audit-routes';
import { api } from '../api';
import { Notice, useNotice } from '../components/notice';
import { cameras, orgName, orgs } from '../stores/store';
import { fmtDateTime, t, tp } from '../i18n';

const PAGE = 100;

interface Filters {
  actor: string;
  cameraId: string;
  schoolId: string;
  kind: string;
  from: string;
  to: string;
}
const EMPTY: Filters = { actor: '', cameraId: '', schoolId: '', kind: '', from: '', to: '' };

/** The query string of a filter set (`datetime-local` values are the browser's local time). */
function query(f: Filters, before?: number): string {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (f.actor.trim()) q.set('actor', f.actor.trim().toLowerCase());
  if (f.cameraId) q.set('cameraId', f.cameraId);
  if (f.schoolId) q.set('schoolId', f.schoolId);
  if (f.kind.trim()) q.set('kind', f.kind.trim());
  if (f.from) q.set('from', String(new Date(f.from).getTime()));
  if (f.to) q.set('to', String(new Date(f.to).getTime()));
  if (before !== undefined) q.set('before', String(before));
  return q.toString();
}

/** Details worth a glance, without the hash-chain fields. */
function detailText(e: AuditEntry): string {
  return Object.entries(e.detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** The audit log for auditors: filter by who, camera, school, kind and time; export; verify the hash chain. */
export function AuditScreen() {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [more, setMore] = useState(false);
  const [verify, setVerify] = useState<VerifyBody | null>(null);
  const notice = useNotice();
  const [kinds, setKinds] = useState<string[]>([]);

  const load = (f: Filters, before?: number): void => {
    void api<{ entries: AuditEntry[] }>('GET', `/api/audit?${query(f, before)}`)
      .then(({ entries: got }) => {
        setEntries((prev) => (before === undefined ? got : [...prev, ...got]));
        setMore(got.length === PAGE);
        setKinds((prev) => [...new Set([...prev, ...got.map((e) => e.kind)])].sort());
        notice.clear();
      })
      .catch(notice.fail);
  };
  const runVerify = (): void => {
    void api<VerifyBody>('GET', '/api/audit/verify')
      .then(setVerify)
      .catch(notice.fail);
  };
  useEffect(() => {
    load(EMPTY);
    runVerify();
  }, []);
  const set = (k: keyof Filters) => (e: Event) => setFilters({ ...filters, [k]: (e.target as HTMLInputElement).value });
  const apply = (ev: Event): void => {
    ev.preventDefault();
    setApplied(filters);
    load(filters);
  };
  const schools = orgs.value.filter((o) => o.kind === 'school').sort((a, b) => a.name.localeCompare(b.name));

  return (
    <section class="page audit">
      <div class="page-head">
        <h1>{t('audit.title')}</h1>
        <div class="head-actions">
          <a class="button" href="/api/audit/export?format=csv" download id="export-csv">
            {t('audit.exportCsv')}
          </a>
          <a class="button" href="/api/audit/export?format=json" download id="export-json">
            {t('audit.exportJson')}
          </a>
          <button type="button" onClick={runVerify} id="verify">
            {t('audit.verify')}
          </button>
        </div>
      </div>
      {verify && (
        <p class={`banner ${verify.ok ? 'ok' : 'bad'}`} id="verify-result" role="status">
          {verify.ok
            ? t('audit.verifyOk', { entries: tp('audit.entries', verify.entries) })
            : t('audit.verifyBad', { seq: verify.firstBad?.seq ?? '?', problem: verify.firstBad?.problem ?? '' })}
        </p>
      )}
      <form class="panel filters" onSubmit={apply} aria-label={t('audit.filters')} id="audit-filters">
        <label>
          <span>{t('audit.who')}</span>
          <input name="actor" value={filters.actor} onInput={set('actor')} maxLength={64} />
        </label>
        <label>
          <span>{t('audit.camera')}</span>
          <select name="cameraId" value={filters.cameraId} onChange={set('cameraId')}>
            <option value="">{t('common.all')}</option>
            {cameras.value.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({orgName(c.schoolId)})
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('audit.school')}</span>
          <select name="schoolId" value={filters.schoolId} onChange={set('schoolId')}>
            <option value="">{t('common.all')}</option>
            <OrgOptions orgs={schools} />
          </select>
        </label>
        <label>
          <span>{t('audit.kind')}</span>
          <input name="kind" list="audit-kinds" value={filters.kind} onInput={set('kind')} placeholder={t('audit.anyKind')} maxLength={64} />
          <datalist id="audit-kinds">
            {kinds.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </label>
        <label>
          <span>{t('audit.from')}</span>
          <input name="from" type="datetime-local" value={filters.from} onInput={set('from')} />
        </label>
        <label>
          <span>{t('audit.to')}</span>
          <input name="to" type="datetime-local" value={filters.to} onInput={set('to')} />
        </label>
        <div class="filter-buttons">
          <button type="submit" class="primary">
            {t('audit.apply')}
          </button>
          <button
            type="button"
            onClick={() => {
              setFilters(EMPTY);
              setApplied(EMPTY);
              load(EMPTY);
            }}
          >
            {t('audit.clear')}
          </button>
        </div>
      </form>
      <Notice message={notice.message} />
      {entries.length === 0 ? (
        <p class="empty">{t('audit.none')}</p>
      ) : (
        <table class="data audit-table" id="audit-table">
          <TableHead cols={['#', t('audit.at'), t('audit.kind'), t('audit.outcome'), t('audit.actor'), t('audit.address'), t('audit.camera'), t('audit.school'), t('audit.target'), t('audit.detail')]} />
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq} data-kind={e.kind} data-outcome={e.outcome}>
                <td>{e.seq}</td>
                <td class="nowrap">{fmtDateTime(e.at)}</td>
                <td>
                  <code>{e.kind}</code>
                </td>
                <td>
                  <span class={`badge ${e.outcome === 'ok' ? 'ok' : 'down'}`}>{e.outcome}</span>
                </td>
                <td>{e.actor ? `${e.actor}${e.role ? ` (${t(`role.${e.role}`)})` : ''}` : '—'}</td>
                <td>{e.address ?? '—'}</td>
                <td>{e.cameraId ? (cameras.value.find((c) => c.id === e.cameraId)?.name ?? e.cameraId) : '—'}</td>
                <td>{e.schoolId ? orgName(e.schoolId) : '—'}</td>
                <td>{e.target ?? '—'}</td>
                <td class="detail">{detailText(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && (
        <button type="button" onClick={() => load(applied, entries[entries.length - 1]?.seq)}>
          {t('audit.more')}
        </button>
      )}
    </section>
  );
}
