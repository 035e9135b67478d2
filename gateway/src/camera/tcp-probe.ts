import net from 'node:net';
import type { CameraConfig } from '../config';

/**
 * Whether something accepts a TCP connection at the camera's first address (the ONVIF device
 * service, else the RTSP URL): the lightest question that tells a camera that is back from one
 * still down. Nothing is sent; the connection is closed at once.
 */
export function probeCamera(cfg: CameraConfig, timeoutMs = 1000): Promise<boolean> {
  const target = cameraEndpoint(cfg);
  if (!target) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Host and port the camera is reached at first. */
export function cameraEndpoint(cfg: CameraConfig): { host: string; port: number } | undefined {
  try {
    const u = new URL(cfg.onvif?.xaddr ?? cfg.rtsp?.url ?? '');
    const port = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : 554;
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  } catch {
    return undefined;
  }
}
