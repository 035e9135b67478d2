import { useRef, useState } from 'preact/hooks';
import { type StringKey, t } from '../i18n';
import { loginNotice, signIn } from '../session';

/** Sign-in: user name, password, and the one-time code for accounts that have TOTP. */
export function Login() {
  const [error, setError] = useState<{ key: StringKey; vars?: Record<string, string | number> } | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const notice = loginNotice.value;

  const submit = (ev: Event): void => {
    ev.preventDefault();
    const data = new FormData(form.current!);
    const field = (name: string): string => {
      const v = data.get(name);
      return typeof v === 'string' ? v : '';
    };
    setBusy(true);
    setError(null);
    void signIn(field('username').trim(), field('password'), field('totp').trim()).then((problem) => {
      setBusy(false);
      if (problem) {
        setError(problem);
        const pw = form.current?.elements.namedItem('password') as HTMLInputElement | null;
        if (problem.key === 'login.bad' && pw) {
          pw.value = '';
          pw.focus();
        }
        if (problem.key === 'login.totpNeeded') (form.current?.elements.namedItem('totp') as HTMLInputElement | null)?.focus();
      }
    });
  };

  const message = error ?? notice;
  return (
    <main class="login-screen">
      <form id="login" class="login panel" ref={form} onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{t('app.title')}</h1>
        <p class="muted">{t('app.region')}</p>
        <h2>{t('login.title')}</h2>
        <label>
          <span>{t('login.username')}</span>
          <input name="username" autocomplete="username" required maxLength={128} autoFocus />
        </label>
        <label>
          <span>{t('login.password')}</span>
          <input name="password" type="password" autocomplete="current-password" required maxLength={1024} />
        </label>
        <label>
          <span>{t('login.totp')}</span>
          <input name="totp" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxLength={6} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('login.busy') : t('login.submit')}
        </button>
        <p id="login-error" class={error ? 'error' : 'notice'} role="alert">
          {message ? t(message.key, message.vars) : ''}
        </p>
      </form>
    </main>
  );
}
