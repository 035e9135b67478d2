import { signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { CameraView } from '../../../../cameras/camera-view';
import { errorText } from '../../components/notice';
import { ApiError } from '../../api';
import { Icon } from '../../components/icons';
import { orgName } from '../../stores/store';
import { fmtDateTime, t } from '../../i18n';

interface Shot {
  camera: CameraView;
  takenAt: number;
  url: string | null;
  error: string | null;
}

/** The snapshot being shown, if any. */
const shot = signal<Shot | null>(null);

/** Asks the centre for a JPEG of the camera's picture (audited there) and shows it. */
export function takeSnapshot(camera: CameraView): void {
  close();
  const takenAt = Date.now();
  shot.value = { camera, takenAt, url: null, error: null };
  void fetch(`/api/cameras/${encodeURIComponent(camera.id)}/snapshot`)
    .then(async (res) => {
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
        throw new ApiError(res.status, body.error ?? `HTTP_${res.status}`, body.message ?? res.statusText);
      }
      const url = URL.createObjectURL(await res.blob());
      if (shot.value?.takenAt === takenAt) shot.value = { ...shot.value, url };
      else URL.revokeObjectURL(url);
    })
    .catch((err: unknown) => {
      if (shot.value?.takenAt === takenAt) shot.value = { ...shot.value, error: errorText(err) };
    });
}

function close(): void {
  if (shot.value?.url) URL.revokeObjectURL(shot.value.url);
  shot.value = null;
}

/** The snapshot in a dialog: the picture, when it was taken, a download, and a way back. */
export function SnapshotDialog() {
  const closeButton = useRef<HTMLButtonElement>(null);
  const s = shot.value;
  useEffect(() => {
    if (!s) return;
    closeButton.current?.focus();
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        close();
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [s?.takenAt]);
  if (!s) return null;
  const title = `${s.camera.name} · ${orgName(s.camera.schoolId)}`;
  const file = `${s.camera.name}-${new Date(s.takenAt).toISOString().slice(0, 19).replace(/[:T]/g, '-')}.jpg`;
  return (
    <div class="modal-backdrop" onClick={close}>
      <div class="modal panel" role="dialog" aria-modal="true" aria-labelledby="snapshot-title" id="snapshot-dialog" onClick={(e) => e.stopPropagation()}>
        <h2 id="snapshot-title">
          {t('snapshot.title')}: {title}
        </h2>
        <p class="muted">{fmtDateTime(s.takenAt)}</p>
        {s.url ? <img src={s.url} alt={t('snapshot.alt', { camera: title })} class="snapshot" /> : s.error ? <p class="notice error" role="alert">{s.error}</p> : <p>{t('snapshot.taking')}</p>}
        <div class="modal-buttons">
          {s.url && (
            <a class="button primary" href={s.url} download={file}>
              <Icon name="download" /> {t('snapshot.download')}
            </a>
          )}
          <button type="button" ref={closeButton} onClick={close}>
            {t('common.close')}
          </button>
        </div>
      </div>
    </div>
  );
}
