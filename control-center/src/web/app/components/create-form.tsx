import type { ComponentChildren } from 'preact';
import { t } from '../i18n';

/** A panel form that creates something: its heading, its fields, and the "Create" button. */
export function CreateForm({ id, title, onSubmit, children }: { id: string; title: string; onSubmit: (ev: Event) => void; children: ComponentChildren }) {
  return (
    <form class="panel form-grid" id={id} onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
      <button type="submit" class="primary">
        {t('common.create')}
      </button>
    </form>
  );
}
