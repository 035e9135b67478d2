import { describe, expect, it } from 'vitest';
import type { CameraHealth } from '@schoolcam/protocol/link/link-messages';
import { CameraHealthBoard } from '../../src/cameras/camera-health';

const health = (cameraId: string, fields: Partial<CameraHealth> = {}): CameraHealth => ({ cameraId, state: 'streaming', online: true, fps: 15, bitrateKbps: 2000, reconnects: 0, events: 'ok', ...fields });

describe('camera health board', () => {
  it('keeps each camera’s last report under its public id, and says when a person would notice a change', () => {
    const board = new CameraHealthBoard();
    expect(board.get('gw-sok:vchod')).toBeNull();
    expect(board.report('gw-sok', [health('vchod', { lastFrameAt: 900, keyframeIntervalMs: 2000, transport: 'tcp' })], 1000)).toBe(true);
    expect(board.get('gw-sok:vchod')).toEqual({ online: true, fps: 15, bitrateKbps: 2000, lastFrameAt: 900, keyframeIntervalMs: 2000, reconnects: 0, transport: 'tcp', events: 'ok', reportedAt: 1000 });
    // fps drifting is not worth a push; a reconnect or the camera dropping off is.
    expect(board.report('gw-sok', [health('vchod', { fps: 14.2, transport: 'tcp' })], 2000)).toBe(false);
    expect(board.get('gw-sok:vchod')?.fps).toBe(14.2);
    expect(board.report('gw-sok', [health('vchod', { reconnects: 1, transport: 'tcp' })], 3000)).toBe(true);
    expect(board.report('gw-sok', [health('vchod', { online: false, reconnects: 1, transport: 'tcp' })], 4000)).toBe(true);
  });

  it('forgets a gateway’s cameras when its link goes, and only that gateway’s', () => {
    const board = new CameraHealthBoard();
    board.report('gw-sok', [health('vchod')]);
    board.report('gw-cheb', [health('vchod')]);
    board.forgetGateway('gw-sok');
    expect(board.get('gw-sok:vchod')).toBeNull();
    expect(board.get('gw-cheb:vchod')).not.toBeNull();
  });
});
