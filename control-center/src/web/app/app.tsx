import { useEffect } from 'preact/hooks';
import { socket } from './stores/store';
import { t } from './i18n';
import { route, href, navigate } from './router';
import { HOME, screensFor } from './screens';
import { Login } from './screens/login';
import { chooseLang, session, sessionChecked, signOut } from './session';
import { lang } from './i18n';
import { orgName } from './stores/store';
import { Icon } from './components/icons';
import { fresh, muted, openAlarms, setMuted } from './stores/alarms';

/** The shell: sign-in, or the top bar with the role's screens and the screen the route names. */
export function App() {
  const s = session.value;
  useEffect(() => {
    if (s && (route.value.path === '/' || !screensFor(s.user.role).some((x) => x.path === route.value.path))) {
      if (route.value.path === '/') navigate(HOME[s.user.role]);
    }
  }, [s, route.value.path]);
  if (!sessionChecked.value) return <p class="splash">{t('common.loading')}</p>;
  if (!s) return <Login />;
  const screens = screensFor(s.user.role);
  const current = screens.find((x) => x.path === route.value.path);
  const link = socket.value?.state.value;
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href={href(HOME[s.user.role])}>
          <span class="logo" aria-hidden="true">◉</span> {t('app.title')}
        </a>
        <nav aria-label={t('nav.main')} class="tabs">
          {screens.map((x) => (
            <a key={x.path} href={href(x.path)} class={x === current ? 'tab active' : 'tab'} aria-current={x === current ? 'page' : undefined}>
              {t(x.label)}
              {x.path === '/alarms' && openAlarms.value.length > 0 && (
                <span class="count" id="alarm-badge" aria-label={t('alarms.openCount', { n: openAlarms.value.length })}>
                  {openAlarms.value.length}
                </span>
              )}
            </a>
          ))}
        </nav>
        <div class="session-box">
          {screens.some((x) => x.path === '/alarms') && (
            <button type="button" class="ghost icon" id="alarm-sound" aria-pressed={!muted.value} title={muted.value ? t('alarms.unmute') : t('alarms.mute')} aria-label={muted.value ? t('alarms.unmute') : t('alarms.mute')} onClick={() => setMuted(!muted.value)}>
              <Icon name={muted.value ? 'bellOff' : 'bell'} />
            </button>
          )}
          <button type="button" class="ghost" id="lang" onClick={() => chooseLang(lang.value === 'cs' ? 'en' : 'cs')} aria-label={`${t('lang.label')}: ${t('lang.switch')}`}>
            {lang.value === 'cs' ? 'EN' : 'CZ'}
          </button>
          <span id="whoami" class="muted">
            {t('session.who', { user: s.user.username, role: t(`role.${s.user.role}`), org: orgName(s.user.org) })}
          </span>
          <button type="button" id="logout" class="ghost" onClick={() => void signOut()}>
            {t('session.logout')}
          </button>
        </div>
      </header>
      {link === 'down' && (
        <p class="banner warn" role="status">
          {t('session.disconnected')}
        </p>
      )}
      <AlarmBanner />
      <div class="screen">{current ? current.view() : <p class="empty">{t('nav.notFound')}</p>}</div>
    </div>
  );
}

/** The visible cue: the newest alarm raised since the page opened, until looked at or acknowledged. */
function AlarmBanner() {
  const a = fresh.value;
  if (!a || route.value.path === '/alarms') return null;
  const what = `${t(`alarms.kind.${a.kind}`)} · ${a.cameraName ?? a.gatewayId} · ${orgName(a.schoolId)}`;
  return (
    <p class="banner alarm" role="alert" id="alarm-banner">
      <Icon name="bell" /> {t('alarms.new', { what })}{' '}
      <a href={href('/alarms')} onClick={() => (fresh.value = null)}>
        {t('alarms.goto')}
      </a>{' '}
      <button type="button" class="ghost" onClick={() => (fresh.value = null)}>
        {t('common.close')}
      </button>
    </p>
  );
}
