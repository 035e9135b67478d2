import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { t } from '../i18n';

/** What went wrong, in words for people. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'NETWORK') return t('common.networkError');
    if (err.status === 403) return t('common.forbidden');
    return t('common.error', { message: err.message });
  }
  return t('common.error', { message: err instanceof Error ? err.message : String(err) });
}

/** A message line under a form: success or failure, announced to screen readers. */
export function Notice({ message }: { message: { ok: boolean; text: string } | null }) {
  if (!message) return <p class="notice" role="status" />;
  return (
    <p class={message.ok ? 'notice ok' : 'notice error'} role={message.ok ? 'status' : 'alert'}>
      {message.text}
    </p>
  );
}

/** A screen's message line: `ok(text)` after something worked, `fail(err)` when it did not. */
export function useNotice(): { message: { ok: boolean; text: string } | null; ok: (text: string) => void; fail: (err: unknown) => void; clear: () => void } {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  return { message, ok: (text) => setMessage({ ok: true, text }), fail: (err) => setMessage({ ok: false, text: errorText(err) }), clear: () => setMessage(null) };
}
