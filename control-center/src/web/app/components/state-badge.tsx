import type { CameraView } from '../../../cameras/camera-view';
import { t } from '../i18n';

/** How bad a camera state is, for its colour: fine, working on it, or down. */
export function severity(state: string): 'ok' | 'pending' | 'down' | 'neutral' {
  switch (state) {
    case 'streaming':
    case 'playing':
      return 'ok';
    case 'idle':
      return 'neutral';
    case 'starting':
    case 'connecting':
    case 'retrying':
      return 'pending';
    default:
      return 'down';
  }
}

/** Whether a camera counts as up on the overview (streaming, or idle and answering). */
export function isUp(c: Pick<CameraView, 'state'>): boolean {
  return c.state === 'streaming' || c.state === 'idle' || c.state === 'starting';
}

/** A camera's health as a coloured word, with the reason when it is not fine. */
export function StateBadge({ state, reason }: { state: string; reason?: string | null }) {
  const known = ['idle', 'starting', 'streaming', 'stalled', 'failing', 'offline'].includes(state) ? state : 'unknown';
  return (
    <span class={`badge ${severity(known)}`} title={reason ?? undefined} data-state={known}>
      {t(`state.${known}`)}
    </span>
  );
}
