import { useEffect, useRef, useState } from 'preact/hooks';
import type { CameraView } from '../../../../cameras/camera-view';
import { Icon } from '../../components/icons';
import { StateBadge } from '../../components/state-badge';
import { clockText, now } from '../../stores/clock';
import { orgName, socket } from '../../stores/store';
import { t } from '../../i18n';
import { TilePlayer } from '../../player/tile-player';
import type { StreamChoice } from '../../player/tile-transport';

/** Whether the page was opened with `?diag=1`: tiles then read the simulator's capture-time barcode. */
export const DIAG = new URLSearchParams(location.search).get('diag') === '1';

export interface VideoTileProps {
  camera: CameraView;
  profile: StreamChoice;
  /** 1-based position, for the tile's accessible name. */
  index: number;
  onOpenSingle?: () => void;
  onRemove?: () => void;
  onSnapshot?: () => void;
  /** The case reference of the police grant the camera is watched under, shown on the tile. */
  caseRef?: string;
}

/**
 * One camera playing: the picture, its camera and school names, a clock, its state (the
 * player's, and the camera's health when it is not fine) and its buttons.
 */
export function VideoTile({ camera, profile, index, onOpenSingle, onRemove, onSnapshot, caseRef }: VideoTileProps) {
  const video = useRef<HTMLVideoElement>(null);
  const [player, setPlayer] = useState<TilePlayer | null>(null);
  const ws = socket.value;
  useEffect(() => {
    if (!video.current || !ws) return;
    const p = new TilePlayer({ cameraId: camera.id, profile, video: video.current, socket: ws, diag: DIAG });
    setPlayer(p);
    return () => p.dispose();
  }, [camera.id, profile, ws]);

  const state = player?.state.value ?? 'connecting';
  const detail = player?.detail.value ?? '';
  const retryAt = player?.retryAt.value;
  // A police grant ended under the tile: say so in the page's language, not the centre's words.
  const cut = player?.endCause.value;
  const cutText = cut?.kind === 'access_revoked' && cut.grantEnd ? t(`grant.tileCut.${cut.grantEnd}`) : '';
  const healthBad = !['streaming', 'idle', 'starting'].includes(camera.state);
  // A person should see why this tile behaves differently (a little later, over TCP, always the main stream).
  const fallback = player?.transportKind.value === 'mse';
  const playerText =
    state === 'retrying' && retryAt
      ? t('tile.retrying', { seconds: Math.max(0, Math.ceil((retryAt - now.value) / 1000)) })
      : fallback && state === 'playing'
        ? `${t('tile.playing')} · ${t('transport.mse')}`
        : t(`tile.${state}`);
  const playerTitle = detail || (fallback ? t('transport.mseTitle') : undefined);
  const school = orgName(camera.schoolId);
  return (
    <div class="tile-body" data-camera={camera.id} data-state={state} data-profile={profile} data-transport={fallback ? 'mse' : 'webrtc'}>
      <video ref={video} muted autoPlay playsInline disablePictureInPicture aria-label={`${camera.name}, ${school}`} />
      <div class="tile-top">
        <span class="tile-names">
          <strong class="cam-name">{camera.name}</strong>
          <span class="school-name">{school}</span>
          {caseRef && <span class="case">{t('grant.caseRef', { caseRef })}</span>}
        </span>
        <span class="tile-badges">
          {healthBad && <StateBadge state={camera.state} reason={camera.reason} />}
          <span class={`badge player ${state}`} title={playerTitle} data-player-state={state}>
            {playerText}
          </span>
        </span>
      </div>
      <div class="tile-bottom">
        <time class="clock">{clockText}</time>
        <span class="stream-kind muted">{t(profile === 'main' || fallback ? 'tile.mainStream' : 'tile.subStream')}</span>
        <span class="tile-buttons">
          {onSnapshot && (
            <button type="button" class="icon" onClick={onSnapshot} title={t('tile.snapshot')} aria-label={`${t('tile.snapshot')}: ${camera.name}`}>
              <Icon name="camera" />
            </button>
          )}
          {onOpenSingle && (
            <button type="button" class="icon" onClick={onOpenSingle} title={t('tile.single')} aria-label={`${t('tile.single')}: ${camera.name}`}>
              <Icon name="expand" />
            </button>
          )}
          {onRemove && (
            <button type="button" class="icon" onClick={onRemove} title={t('tile.remove')} aria-label={`${t('tile.remove')} ${index}`}>
              <Icon name="close" />
            </button>
          )}
        </span>
      </div>
      {state !== 'playing' && (cutText || detail) && <p class="tile-detail">{cutText || detail}</p>}
    </div>
  );
}
