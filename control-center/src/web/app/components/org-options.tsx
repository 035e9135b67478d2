import type { OrgView } from '../../../orgs/org-routes';

/** The `<option>`s of a list of organisations (towns, schools…), by name. */
export function OrgOptions({ orgs }: { orgs: readonly Pick<OrgView, 'id' | 'name'>[] }) {
  return (
    <>
      {orgs.map((o) => (
        <option key={o.id} value={o.id}>
          {o.name}
        </option>
      ))}
    </>
  );
}
