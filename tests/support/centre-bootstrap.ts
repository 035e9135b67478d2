import type { CentreClient } from '../../control-center/test/support/api-client';
import { type FixtureAccount, seedDatabase } from '../../control-center/test/support/centre-fixture';
import { enrolGateway } from '../../gateway/src/link/enrolment';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export type Account = FixtureAccount;

/** Test accounts for a stack around one school: the region's admin and operator, and that school's IT. */
export function schoolAccounts(schoolId: string): Record<'admin' | 'operator' | 'it', Account> {
  return {
    admin: { role: 'admin', username: 'admin', password: 'admin-password-1', org: 'kvk' },
    operator: { role: 'operator', username: 'operator', password: 'operator-password-1', org: 'kvk' },
    it: { role: 'school_it', username: 'it-school', password: 'school-it-password-1', org: schoolId },
  };
}

/** The reference region and the given accounts, in the centre's database before it starts. */
export const seedCentre = seedDatabase;

/**
 * Creates a gateway for a school through the admin API and enrols it with its one-time
 * token, as on site: the config file (identity, secret file) is written to `configFile`,
 * keeping any cameras already in it.
 */
export async function createAndEnrolGateway(admin: CentreClient, g: { id: string; schoolId: string; name: string; configFile: string }): Promise<{ gatewayId: string; secretFile: string }> {
  const created = await admin.post<{ enrolment: { token: string } }>('/api/gateways', { id: g.id, schoolId: g.schoolId, name: g.name });
  if (created.status !== 201) throw new Error(`creating gateway ${g.id} failed: ${created.status} ${JSON.stringify(created.body)}`);
  const done = await enrolGateway({ centerUrl: admin.url, token: created.body.enrolment.token, configFile: g.configFile });
  return { gatewayId: done.gatewayId, secretFile: done.secretFile };
}
