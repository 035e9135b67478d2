import { t } from '../../i18n';

/** What the records of processing keep of a camera, as typed in a form (numbers still text). */
export interface FactsDraft {
  name: string;
  purpose: string;
  legalBasis: string;
  retentionHours: string;
  schedule: string;
}

/** Legal bases school IT usually picks; any other may be typed. */
const LEGAL_BASES = ['čl. 6 odst. 1 písm. e) GDPR – úkol ve veřejném zájmu', 'čl. 6 odst. 1 písm. f) GDPR – oprávněný zájem', 'čl. 6 odst. 1 písm. c) GDPR – právní povinnost'];

/** The body the centre takes for these facts (registration and edit alike). */
export function factsBody(f: FactsDraft): { purpose: string; legalBasis: string; retentionHours: number; schedule?: string } {
  return { purpose: f.purpose.trim(), legalBasis: f.legalBasis.trim(), retentionHours: Number(f.retentionHours), ...(f.schedule.trim() ? { schedule: f.schedule.trim() } : {}) };
}

/** Purpose, legal basis, retention (all required) and schedule: the same fields in the wizard and in an edit. */
export function CameraFactsFields({ value, onChange }: { value: FactsDraft; onChange: (next: FactsDraft) => void }) {
  const set = (k: keyof FactsDraft) => (e: Event) => onChange({ ...value, [k]: (e.target as HTMLInputElement).value });
  const hours = Number(value.retentionHours);
  return (
    <>
      <label class="span-all">
        {t('facts.purpose')}
        <textarea name="purpose" required minLength={3} maxLength={500} rows={2} value={value.purpose} onInput={set('purpose')} placeholder={t('facts.purposeHint')} />
      </label>
      <label class="span-2">
        {t('facts.legalBasis')}
        <input name="legalBasis" required minLength={3} maxLength={500} list="legal-bases" value={value.legalBasis} onInput={set('legalBasis')} />
        <datalist id="legal-bases">
          {LEGAL_BASES.map((b) => (
            <option key={b} value={b} />
          ))}
        </datalist>
      </label>
      <label>
        {t('facts.retention')}
        <input name="retentionHours" type="number" required min={1} max={720} step={1} value={value.retentionHours} onInput={set('retentionHours')} aria-describedby="retention-hint" />
        <span class="muted small" id="retention-hint">
          {Number.isInteger(hours) && hours >= 1 && hours <= 720 ? t('facts.retentionDays', { days: Math.round((hours / 24) * 10) / 10 }) : t('facts.retentionRange')}
        </span>
      </label>
      <label>
        {t('facts.schedule')}
        <input name="schedule" minLength={3} maxLength={200} value={value.schedule} onInput={set('schedule')} placeholder={t('facts.scheduleHint')} />
      </label>
    </>
  );
}
