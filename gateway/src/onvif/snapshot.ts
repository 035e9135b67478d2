import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MAX_SNAPSHOT_BYTES } from '@schoolcam/protocol/link/link-messages';
import { DigestClientState, parseWwwAuthenticate } from '@schoolcam/protocol/rtsp/digest-auth';
import { GatewayError } from '../errors';
import { OnvifCamera, OnvifError } from './onvif-client';

export interface SnapshotSource {
  xaddr: string;
  username: string;
  password: string;
  /** Which profile's snapshot: the largest (main, default) or the smallest (sub). */
  profile?: 'main' | 'sub';
  /** Deadline of each step (ONVIF calls, the HTTP fetch), ms. Default 5000. */
  timeoutMs?: number;
}

/**
 * A JPEG of the camera's current picture: ONVIF GetSnapshotUri on the camera's profile, then an
 * HTTP GET of that address with the camera's credentials (Digest, or Basic when that is all the
 * camera offers — on the school LAN, to the camera's own host only). At most
 * {@link MAX_SNAPSHOT_BYTES}; anything that is not a JPEG is refused. Failures are typed
 * {@link GatewayError}s for the link's `request.failed`.
 */
export async function takeSnapshot(src: SnapshotSource): Promise<Buffer> {
  const timeoutMs = src.timeoutMs ?? 5000;
  let camera: OnvifCamera;
  try {
    camera = await OnvifCamera.connect({ xaddr: src.xaddr, username: src.username, password: src.password, timeoutMs, anyCodec: true });
  } catch (err) {
    throw asGatewayError(err);
  }
  let uri: string | undefined;
  try {
    const profiles = camera.allProfiles;
    const profile = src.profile === 'sub' ? profiles.at(-1) : profiles[0];
    if (!profile) throw new GatewayError('UNSUPPORTED', 'the camera has no media profile');
    uri = await camera.snapshotUri(profile.token);
  } catch (err) {
    throw asGatewayError(err);
  } finally {
    camera.close();
  }
  if (!uri) throw new GatewayError('UNSUPPORTED', 'the camera offers no snapshot address');
  return fetchJpeg(uri, src.username, src.password, timeoutMs);
}

/** GET a JPEG, answering one authentication challenge. */
export async function fetchJpeg(uri: string, username: string, password: string, timeoutMs: number): Promise<Buffer> {
  const first = await get(uri, undefined, timeoutMs);
  let reply = first;
  if (first.status === 401) {
    const auth = DigestClientState.fromChallenges(parseWwwAuthenticate(first.challenges), username, password);
    if (!auth) throw new GatewayError('AUTH', 'the camera asked for an authentication scheme the gateway does not speak');
    const u = new URL(uri);
    reply = await get(uri, auth.authorization('GET', `${u.pathname}${u.search}`), timeoutMs);
  }
  if (reply.status === 401 || reply.status === 403) throw new GatewayError('AUTH', 'the camera refused the credentials for its snapshot');
  if (reply.status !== 200) throw new GatewayError('UNSUPPORTED', `the camera answered ${reply.status} for its snapshot`);
  const body = reply.body;
  // JPEG: starts with the SOI marker (FF D8), whatever the Content-Type says.
  if (body.length < 4 || body[0] !== 0xff || body[1] !== 0xd8) throw new GatewayError('UNSUPPORTED', 'the camera\'s snapshot is not a JPEG');
  return body;
}

interface Reply {
  status: number;
  challenges: string[];
  body: Buffer;
}

function get(uri: string, authorization: string | undefined, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(uri);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = send(u, { method: 'GET', headers: authorization ? { authorization } : {} }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_SNAPSHOT_BYTES) {
          req.destroy();
          settle(() => reject(new GatewayError('UNSUPPORTED', `the camera's snapshot is larger than ${MAX_SNAPSHOT_BYTES} bytes`)));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        const raw = res.headers['www-authenticate'];
        settle(() => resolve({ status: res.statusCode ?? 0, challenges: raw === undefined ? [] : Array.isArray(raw) ? raw : [raw], body: Buffer.concat(chunks) }));
      });
      res.on('error', (err) => settle(() => reject(new GatewayError('UNREACHABLE', `snapshot: ${err.message}`))));
    });
    const timer = setTimeout(() => {
      req.destroy();
      settle(() => reject(new GatewayError('TIMEOUT', 'the camera did not send its snapshot in time')));
    }, timeoutMs);
    req.on('error', (err) => settle(() => reject(new GatewayError('UNREACHABLE', `snapshot: ${err.message}`))));
    req.end();
  });
}

function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof OnvifError) {
    switch (err.code) {
      case 'ONVIF_AUTH':
        return new GatewayError('AUTH', err.message);
      case 'ONVIF_TIMEOUT':
        return new GatewayError('TIMEOUT', err.message);
      case 'ONVIF_UNREACHABLE':
        return new GatewayError('UNREACHABLE', err.message);
      default:
        return new GatewayError('UNSUPPORTED', err.message);
    }
  }
  return new GatewayError('INTERNAL', 'taking the snapshot failed', { cause: err });
}
