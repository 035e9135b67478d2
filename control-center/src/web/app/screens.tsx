import type { JSX } from 'preact';
import type { Role } from '../../access/principal';
import type { StringKey } from './i18n';
import { AlarmsScreen } from './screens/alarms';
import { AuditScreen } from './screens/audit';
import { CamerasScreen } from './screens/cameras';
import { GatewaysScreen } from './screens/gateways';
import { LiveScreen } from './screens/live/live';
import { OverviewScreen } from './screens/overview';
import { PoliceScreen } from './screens/police';
import { RegisterScreen } from './screens/register/register';
import { SchoolsScreen } from './screens/schools';
import { SharingScreen } from './screens/sharing';
import { UsersScreen } from './screens/users';

/**
 * The role router: every screen with the roles it is shown to. The centre enforces the same
 * on every request; this only keeps people out of screens that would show them nothing.
 */
export interface ScreenDef {
  path: string;
  label: StringKey;
  roles: readonly Role[];
  view: () => JSX.Element;
}

export const SCREENS: readonly ScreenDef[] = [
  { path: '/overview', label: 'nav.overview', roles: ['operator', 'admin', 'auditor'], view: () => <OverviewScreen /> },
  { path: '/police', label: 'nav.police', roles: ['police'], view: () => <PoliceScreen /> },
  { path: '/live', label: 'nav.live', roles: ['operator', 'school_it', 'police'], view: () => <LiveScreen /> },
  { path: '/alarms', label: 'nav.alarms', roles: ['operator', 'school_it', 'admin', 'auditor'], view: () => <AlarmsScreen /> },
  { path: '/sharing', label: 'nav.sharing', roles: ['operator', 'school_it'], view: () => <SharingScreen /> },
  { path: '/cameras', label: 'nav.cameras', roles: ['school_it', 'admin', 'operator', 'auditor'], view: () => <CamerasScreen /> },
  { path: '/register', label: 'nav.register', roles: ['school_it', 'admin'], view: () => <RegisterScreen /> },
  { path: '/users', label: 'nav.users', roles: ['admin'], view: () => <UsersScreen /> },
  { path: '/schools', label: 'nav.schools', roles: ['admin'], view: () => <SchoolsScreen /> },
  { path: '/gateways', label: 'nav.gateways', roles: ['admin'], view: () => <GatewaysScreen /> },
  { path: '/audit', label: 'nav.audit', roles: ['auditor'], view: () => <AuditScreen /> },
];

/** Where each role lands after signing in. */
export const HOME: Readonly<Record<Role, string>> = {
  operator: '/overview',
  admin: '/overview',
  auditor: '/audit',
  school_it: '/cameras',
  police: '/police',
};

export function screensFor(role: Role): ScreenDef[] {
  return SCREENS.filter((s) => s.roles.includes(role));
}
