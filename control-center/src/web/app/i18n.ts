/** Dashboard strings. Czech is the default; English for visitors and integrators. */
export type Lang = 'cs' | 'en';

const STRINGS = {
  title: { cs: 'Kamerový dohled škol', en: 'School camera supervision' },
  layout: { cs: 'Mřížka', en: 'Grid' },
  noToken: { cs: 'Chybí přístupový token v adrese stránky.', en: 'The page address lacks its access token.' },
  disconnected: { cs: 'Spojení s centrem přerušeno, připojuji znovu…', en: 'Lost the connection to the centre, reconnecting…' },
  noCameras: { cs: 'Zatím žádné kamery.', en: 'No cameras yet.' },
  school: { cs: 'Škola', en: 'School' },
  latency: { cs: 'zpoždění', en: 'latency' },
  'state.connecting': { cs: 'připojuji', en: 'connecting' },
  'state.playing': { cs: 'živě', en: 'live' },
  'state.idle': { cs: 'v klidu', en: 'idle' },
  'state.starting': { cs: 'spouštím', en: 'starting' },
  'state.streaming': { cs: 'vysílá', en: 'streaming' },
  'state.failing': { cs: 'porucha', en: 'failing' },
  'state.offline': { cs: 'offline', en: 'offline' },
  'state.ended': { cs: 'ukončeno', en: 'ended' },
} satisfies Record<string, Record<Lang, string>>;

export type StringKey = keyof typeof STRINGS;

export function t(lang: Lang, key: string): string {
  const entry = (STRINGS as Record<string, Record<Lang, string>>)[key];
  return entry ? entry[lang] : key;
}
