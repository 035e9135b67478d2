import { t } from '../i18n';
import { grantNotice } from '../stores/grants';
import { orgName } from '../stores/store';

/** Why a police view was cut (a grant revoked or expired), or that an emergency was raised: stays until the next one. */
export function GrantNotice() {
  const n = grantNotice.value;
  if (!n) return null;
  const text =
    n.key === 'emergency' ? t('grant.cut.emergency', { school: n.schoolIds.map(orgName).join(', '), force: orgName(n.forceId) }) : t(`grant.cut.${n.key}`, { caseRef: n.caseRef });
  return (
    <p id="notice" class={`banner ${n.key === 'emergency' ? 'alarm' : 'warn'}`} role="alert">
      {text}{' '}
      <button type="button" class="ghost" onClick={() => (grantNotice.value = null)}>
        {t('common.close')}
      </button>
    </p>
  );
}
