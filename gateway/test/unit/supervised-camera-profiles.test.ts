import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CameraSourceFactory } from '../../src/camera/camera';
import { SupervisedCamera } from '../../src/camera/supervised-camera';
import type { CameraConfig } from '../../src/config';

/** Nothing is pulled in these tests: a source factory that would refuse. */
const factory: CameraSourceFactory = () => Promise.reject(new Error('not pulled in this test'));

function supervised(cfg: CameraConfig): SupervisedCamera {
  return new SupervisedCamera(cfg, { sourceFactory: factory, camera: { lingerMs: 0 } }, pino({ level: 'silent' }));
}

describe('a camera\'s streams by profile', () => {
  it('gives the configured stream for its own profile and none asked, and one other stream for the other ONVIF profile', async () => {
    const cam = supervised({ id: 'cam1', name: 'Vchod', onvif: { xaddr: 'http://10.0.0.7/onvif/device_service', username: 'u', password: 'p' } });
    expect(cam.streamFor(undefined)).toBe(cam.camera);
    expect(cam.streamFor('main')).toBe(cam.camera);
    const sub = cam.streamFor('sub');
    expect(sub).not.toBe(cam.camera);
    expect(cam.streamFor('sub')).toBe(sub); // one per profile, however many viewers
    await cam.close();
  });

  it('gives a camera configured on its sub profile its main stream on request', async () => {
    const cam = supervised({ id: 'cam2', name: 'Dvůr', onvif: { xaddr: 'http://10.0.0.8/onvif/device_service', username: 'u', password: 'p', profile: 'sub' } });
    expect(cam.streamFor('sub')).toBe(cam.camera);
    expect(cam.streamFor('main')).not.toBe(cam.camera);
    await cam.close();
  });

  it('gives a plain RTSP camera its one stream whatever is asked', async () => {
    const cam = supervised({ id: 'cam3', name: 'Chodba', rtsp: { url: 'rtsp://10.0.0.9/stream' } });
    expect(cam.streamFor('sub')).toBe(cam.camera);
    expect(cam.streamFor('main')).toBe(cam.camera);
    await cam.close();
  });
});
