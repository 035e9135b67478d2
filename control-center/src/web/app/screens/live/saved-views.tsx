import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import type { SavedView } from '../../../../prefs/prefs-schemas';
import { ApiError, api } from '../../api';
import { t } from '../../i18n';
import { applyView, layout, slots } from './live-state';

/** The account's saved views, as the centre keeps them. */
const views = signal<SavedView[]>([]);
const current = signal<string>('');

async function reload(): Promise<void> {
  views.value = (await api<{ views: SavedView[] }>('GET', '/api/me/views')).views;
}

/** Open, save and delete named live views (kept on the centre, per account). */
export function SavedViews() {
  const [name, setName] = useState('');
  const [message, setMessage] = useState('');
  useEffect(() => {
    void reload().catch(() => undefined);
  }, []);
  const open = (id: string): void => {
    current.value = id;
    const v = views.value.find((x) => x.id === id);
    if (v) {
      applyView(v);
      setName(v.name);
    }
  };
  const save = (ev: Event): void => {
    ev.preventDefault();
    const n = name.trim();
    if (!n) return;
    void api<SavedView>('POST', '/api/me/views', { name: n, layout: layout.value, cameras: slots.value })
      .then(async (v) => {
        await reload();
        current.value = v.id;
        setMessage(t('live.viewSaved', { name: v.name }));
      })
      .catch((err: unknown) => setMessage(t('common.error', { message: err instanceof ApiError ? err.message : String(err) })));
  };
  const remove = (): void => {
    const id = current.value;
    if (!id) return;
    void api('DELETE', `/api/me/views/${id}`)
      .then(async () => {
        current.value = '';
        setName('');
        await reload();
      })
      .catch(() => undefined);
  };
  return (
    <div class="saved-views" role="group" aria-label={t('live.views')}>
      <label>
        <span class="sr-only">{t('live.views')}</span>
        <select value={current.value} onChange={(e) => open((e.target as HTMLSelectElement).value)}>
          <option value="">{t('live.viewPick')}</option>
          {views.value.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name}
            </option>
          ))}
        </select>
      </label>
      <form class="inline" onSubmit={save}>
        <label>
          <span class="sr-only">{t('live.viewName')}</span>
          <input name="view-name" placeholder={t('live.viewName')} value={name} maxLength={200} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">{t('live.viewSave')}</button>
      </form>
      {current.value && (
        <button type="button" onClick={remove}>
          {t('live.viewDelete')}
        </button>
      )}
      <span class="muted" role="status">
        {message}
      </span>
    </div>
  );
}
