import type { CameraRecord, CameraStore } from '../storage/camera-store';
import type { RegistrationRecord, RegistrationStore } from '../storage/registration-store';
import type { CameraHealthBoard, CameraHealthView } from './camera-health';

/** A camera with everything the centre knows of it: what its gateway reports, its health, its registration. */
export type CameraEntry = CameraRecord & { health: CameraHealthView | null; registration: RegistrationRecord | null };

/** Reads cameras together with their last health report and their registration (purpose, legal basis, retention). */
export class CameraCatalogue {
  constructor(
    private readonly cameras: Pick<CameraStore, 'list' | 'get'>,
    private readonly health: Pick<CameraHealthBoard, 'get'>,
    private readonly registrations: Pick<RegistrationStore, 'all' | 'get'>,
  ) {}

  list(): CameraEntry[] {
    const registrations = this.registrations.all();
    return this.cameras.list().map((c) => ({ ...c, health: this.health.get(c.id), registration: registrations.get(c.id) ?? null }));
  }

  get(id: string): CameraEntry | undefined {
    const c = this.cameras.get(id);
    return c && { ...c, health: this.health.get(c.id), registration: this.registrations.get(c.id) ?? null };
  }
}
