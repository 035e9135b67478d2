import { computed, signal } from '@preact/signals';

/**
 * Open alarms per school, for the overview. Filled once the centre serves alarms
 * (`GET /api/alarms`, pushed over the viewer socket).
 */
export interface AlarmSummary {
  id: string;
  schoolId: string;
}

export const openAlarms = signal<AlarmSummary[]>([]);

export const openAlarmsBySchool = computed(() => {
  const m = new Map<string, number>();
  for (const a of openAlarms.value) m.set(a.schoolId, (m.get(a.schoolId) ?? 0) + 1);
  return m;
});
