import { computed, signal } from '@preact/signals';
import type { AlarmChange, AlarmView } from '../../../alarms/alarm-view';
import { api } from '../api';

/**
 * The open (unacknowledged) alarms the account may see, newest first: the centre sends the list
 * when the viewer socket opens and every change after that (raised, again, cleared, acknowledged).
 */
export const openAlarms = signal<AlarmView[]>([]);

/** Whether the audible cue is off; remembered in this browser (a control room decides per desk). */
export const muted = signal(localStorage.getItem('schoolcam.alarmsMuted') === '1');

/** The newest alarm raised since the page opened, for the banner; cleared when looked at. */
export const fresh = signal<AlarmView | null>(null);

export const openAlarmsBySchool = computed(() => {
  const m = new Map<string, number>();
  for (const a of openAlarms.value) m.set(a.schoolId, (m.get(a.schoolId) ?? 0) + 1);
  return m;
});

const newestFirst = (a: AlarmView, b: AlarmView): number => b.raisedAt - a.raisedAt;

/** The socket's `alarms` event: the whole open list. */
export function setOpenAlarms(list: readonly AlarmView[]): void {
  openAlarms.value = [...list].sort(newestFirst);
}

/** The socket's `alarm` event: one alarm changed; replace it by id (an acknowledged one leaves the open list). */
export function applyAlarm(change: AlarmChange, alarm: AlarmView): void {
  const rest = openAlarms.value.filter((a) => a.id !== alarm.id);
  openAlarms.value = alarm.state === 'open' ? [...rest, alarm].sort(newestFirst) : rest;
  if (change === 'raised' || (change === 'updated' && alarm.state === 'open' && alarm.active)) {
    fresh.value = alarm;
    if (!muted.value) chime();
  }
  if (fresh.value?.id === alarm.id && alarm.state !== 'open') fresh.value = null;
}

export function clearAlarms(): void {
  openAlarms.value = [];
  fresh.value = null;
}

export function setMuted(next: boolean): void {
  muted.value = next;
  localStorage.setItem('schoolcam.alarmsMuted', next ? '1' : '0');
}

/** Acknowledges an alarm (audited by the centre); the change comes back over the socket too. */
export async function acknowledge(id: string, note?: string): Promise<AlarmView> {
  const acked = await api<AlarmView>('POST', `/api/alarms/${encodeURIComponent(id)}/ack`, note ? { note } : {});
  applyAlarm('acked', acked);
  return acked;
}

/** Every alarm in scope, acknowledged ones too (the history), newest first. */
export async function alarmHistory(filter: { kind?: string; schoolId?: string; before?: number } = {}): Promise<AlarmView[]> {
  const q = new URLSearchParams({ state: 'all', limit: '200' });
  for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') q.set(k, String(v));
  return (await api<{ alarms: AlarmView[] }>('GET', `/api/alarms?${q.toString()}`)).alarms;
}

/** Counts the cues played (the journeys read it: sound cannot be heard by a test). */
export const chimes = signal(0);

let audio: AudioContext | undefined;

/**
 * A short two-tone chime made by WebAudio: no sound file to load, nothing from outside the
 * centre. Browsers allow sound after the first user gesture (the sign-in click).
 */
function chime(): void {
  chimes.value++;
  try {
    audio ??= new AudioContext();
    const at = audio.currentTime;
    for (const [i, freq] of [880, 660].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, at + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.25, at + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + i * 0.18 + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(at + i * 0.18);
      osc.stop(at + i * 0.18 + 0.17);
    }
  } catch {
    // No audio device (a headless browser): the visible cue stays.
  }
}
