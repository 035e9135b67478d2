/** Dashboard strings. Czech is the default; English for visitors and integrators. */
export type Lang = 'cs' | 'en';

const STRINGS = {
  title: { cs: 'Kamerový dohled škol', en: 'School camera supervision' },
  layout: { cs: 'Mřížka', en: 'Grid' },
  signIn: { cs: 'Přihlášení', en: 'Sign in' },
  username: { cs: 'Uživatelské jméno', en: 'User name' },
  password: { cs: 'Heslo', en: 'Password' },
  totp: { cs: 'Jednorázový kód (je-li nastaven)', en: 'One-time code (if set up)' },
  signInButton: { cs: 'Přihlásit se', en: 'Sign in' },
  logout: { cs: 'Odhlásit', en: 'Sign out' },
  'login.bad': { cs: 'Nesprávné jméno nebo heslo.', en: 'Wrong user name or password.' },
  'login.totp': { cs: 'Zadejte jednorázový kód z ověřovací aplikace.', en: 'Enter the one-time code from your authenticator app.' },
  'login.totpSetup': { cs: 'Účet vyžaduje jednorázový kód, ale nemá ho nastavený. Obraťte se na správce.', en: 'This account needs a one-time code but has none set up. Ask an administrator.' },
  'login.locked': { cs: 'Příliš mnoho neúspěšných pokusů. Zkuste to znovu za chvíli.', en: 'Too many failed attempts. Try again in a while.' },
  'login.expired': { cs: 'Platnost přihlášení vypršela. Přihlaste se znovu.', en: 'Your session has expired. Please sign in again.' },
  'login.signedOut': { cs: 'Byli jste odhlášeni.', en: 'You have been signed out.' },
  'login.failed': { cs: 'Přihlášení se nezdařilo.', en: 'Sign-in failed.' },
  'noLive.one': { cs: 'Tento účet nemá živé video ({n} kamera, jen stav).', en: 'This account has no live video ({n} camera, health only).' },
  'noLive.few': { cs: 'Tento účet nemá živé video ({n} kamery, jen stav).', en: 'This account has no live video ({n} cameras, health only).' },
  'noLive.other': { cs: 'Tento účet nemá živé video ({n} kamer, jen stav).', en: 'This account has no live video ({n} cameras, health only).' },
  disconnected: { cs: 'Spojení s centrem přerušeno, připojuji znovu…', en: 'Lost the connection to the centre, reconnecting…' },
  noCameras: { cs: 'Žádné kamery k zobrazení.', en: 'No cameras to show.' },
  school: { cs: 'Škola', en: 'School' },
  latency: { cs: 'zpoždění', en: 'latency' },
  'state.connecting': { cs: 'připojuji', en: 'connecting' },
  'state.playing': { cs: 'živě', en: 'live' },
  'state.idle': { cs: 'v klidu', en: 'idle' },
  'state.starting': { cs: 'spouštím', en: 'starting' },
  'state.streaming': { cs: 'vysílá', en: 'streaming' },
  'state.stalled': { cs: 'obraz stojí', en: 'stalled' },
  'state.failing': { cs: 'porucha', en: 'failing' },
  'state.unknown': { cs: 'neznámý stav', en: 'unknown' },
  'state.offline': { cs: 'offline', en: 'offline' },
  'state.ended': { cs: 'ukončeno', en: 'ended' },
  'state.refused': { cs: 'nepřístupné', en: 'not accessible' },
  'transport.mse': { cs: 'záložní přenos', en: 'fallback stream' },
  'transport.mseTitle': {
    cs: 'WebRTC se nepodařilo spojit (síť blokuje UDP?); video jde přes záložní přenos (fMP4 přes WebSocket).',
    en: 'WebRTC could not connect (UDP blocked?); the video comes over the fallback stream (fMP4 over WebSocket).',
  },
  emergencyButton: { cs: 'Mimořádná událost – sdílet kamery s policií', en: 'Emergency – share cameras with the police' },
  'grant.caseRef': { cs: 'č. j.', en: 'case' },
  'grant.cameras': { cs: 'kamer', en: 'cameras' },
  'grant.left': { cs: 'zbývá {min} min', en: '{min} min left' },
  'grant.end': { cs: 'Ukončit', en: 'End' },
  'grant.emergencyLabel': { cs: 'MIMOŘÁDNÁ UDÁLOST', en: 'EMERGENCY' },
  'grant.state.pending': { cs: 'čeká na schválení', en: 'awaiting approval' },
  'grant.state.requested': { cs: 'žádost policie', en: 'police request' },
  'grant.emergency': { cs: 'Mimořádná událost ve škole {school}: kamery jsou sdíleny s {force}.', en: 'Emergency at {school}: cameras are shared with {force}.' },
  'grant.expiredNotice': { cs: 'Platnost sdílení {caseRef} vypršela – živý obraz byl ukončen.', en: 'Sharing {caseRef} expired – the live view was ended.' },
  'grant.revokedNotice': { cs: 'Sdílení {caseRef} bylo odvoláno – živý obraz byl ukončen.', en: 'Sharing {caseRef} was revoked – the live view was ended.' },
  'grant.share': { cs: 'Sdílet s policií', en: 'Share with the police' },
  'grant.caseRefField': { cs: 'Číslo jednací', en: 'Case reference' },
  'grant.reasonField': { cs: 'Důvod', en: 'Reason' },
  'grant.legalBasisField': { cs: 'Právní základ', en: 'Legal basis' },
  'grant.create': { cs: 'Sdílet', en: 'Share' },
  'grant.actionFailed': { cs: 'Akce se nezdařila.', en: 'The action failed.' },
} satisfies Record<string, Record<Lang, string>>;

export type StringKey = keyof typeof STRINGS;

/** The plural key for a count: Czech has one (1), few (2–4) and other (5+, 0); English one and other. */
export function plural(lang: Lang, key: string, n: number): string {
  const cat = new Intl.PluralRules(lang).select(n);
  const k = `${key}.${cat === 'one' || cat === 'few' ? cat : 'other'}`;
  return t(lang, k, { n });
}

export function t(lang: Lang, key: string, vars: Record<string, string | number> = {}): string {
  const entry = (STRINGS as Record<string, Record<Lang, string>>)[key];
  const text = entry ? entry[lang] : key;
  return text.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}
