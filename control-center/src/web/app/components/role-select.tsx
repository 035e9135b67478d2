import { ROLES, type Role } from '../../../access/principal';
import { t } from '../i18n';

/** A choice of the five roles, named in the page's language. */
export function RoleSelect({ value, onChange, name }: { value: Role; onChange: (r: Role) => void; name?: string }) {
  return (
    <select name={name} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value as Role)}>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {t(`role.${r}`)}
        </option>
      ))}
    </select>
  );
}
