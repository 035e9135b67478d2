import { computed, signal } from '@preact/signals';
import { fmtTime, lang } from '../i18n';

/** The page's one clock, ticking every second (tile clocks, alarm ages). */
export const now = signal(Date.now());
window.setInterval(() => {
  now.value = Date.now();
}, 1000);

/** The time of day as text, for tile clocks: bound straight into the text nodes, so no tile re-renders for it. */
export const clockText = computed(() => {
  void lang.value;
  return fmtTime(now.value);
});
