import http from 'node:http';
import https from 'node:https';
import { MAX_SNAPSHOT_BYTES } from '@schoolcam/protocol/link/link-messages';
import { DigestClientState, parseWwwAuthenticate } from '@schoolcam/protocol/rtsp/digest-auth';
import { fromCameraError } from '../check/camera-check';
import { GatewayError } from '../errors';
import { OnvifCamera } from '../onvif/onvif-client';

export interface SnapshotOptions {
  /** the camera's ONVIF device service */
  xaddr: string;
  username: string;
  password: string;
  /** `main` (largest H.264 profile, the default) or `sub` (smallest) */
  profile?: 'main' | 'sub';
  /** answer a Basic-only challenge over plain http (the password travels in the clear); default false */
  allowBasicAuth?: boolean;
  /** deadline of each step (ONVIF connect, GetSnapshotUri, the HTTP fetch), ms; default 8000 */
  timeoutMs?: number;
  /** largest JPEG accepted; default {@link MAX_SNAPSHOT_BYTES} */
  maxBytes?: number;
}

/**
 * A JPEG of what an ONVIF camera sees now: GetSnapshotUri on the chosen profile (URI pinned to the
 * camera's host), then an HTTP GET with the camera's credentials (Digest; Basic only over https or
 * when allowed), cut off at `maxBytes`. Rejects with a {@link GatewayError}: `UNREACHABLE`,
 * `TIMEOUT`, `AUTH`, `UNSUPPORTED` (no snapshot URI, not a JPEG, too large).
 */
export async function fetchCameraSnapshot(opts: SnapshotOptions): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? 8000;
  let uri: string;
  let camera: OnvifCamera | undefined;
  try {
    camera = await OnvifCamera.connect({ xaddr: opts.xaddr, username: opts.username, password: opts.password, timeoutMs, anyCodec: true });
    const relayable = camera.profiles;
    const profile = (opts.profile === 'sub' ? relayable.at(-1) : relayable[0]) ?? camera.allProfiles[0];
    if (!profile) throw new GatewayError('UNSUPPORTED', 'the camera has no video profile to take a snapshot of');
    uri = await camera.snapshotUri(profile.token);
  } catch (err) {
    throw fromCameraError(err);
  } finally {
    camera?.close();
  }
  return fetchJpeg(uri, opts, timeoutMs, opts.maxBytes ?? MAX_SNAPSHOT_BYTES);
}

interface Reply {
  status: number;
  challenges: string[];
  body: Buffer;
}

async function fetchJpeg(uri: string, opts: SnapshotOptions, timeoutMs: number, maxBytes: number): Promise<Buffer> {
  const url = new URL(uri);
  const path = `${url.pathname}${url.search}`;
  let reply = await get(url, undefined, timeoutMs, maxBytes);
  if (reply.status === 401) {
    const auth = DigestClientState.fromChallenges(parseWwwAuthenticate(reply.challenges), opts.username, opts.password);
    if (!auth) throw new GatewayError('AUTH', 'the camera’s snapshot service asks for an authentication scheme the gateway does not speak');
    if (auth.scheme === 'Basic' && url.protocol === 'http:' && !opts.allowBasicAuth) {
      throw new GatewayError('AUTH', 'the camera’s snapshot service offers only Basic authentication, which sends the password in the clear; allow Basic for this camera or switch it to Digest');
    }
    reply = await get(url, auth.authorization('GET', path), timeoutMs, maxBytes);
  }
  if (reply.status === 401 || reply.status === 403) throw new GatewayError('AUTH', 'the camera refused the user name or password for its snapshot');
  if (reply.status !== 200) throw new GatewayError('UNSUPPORTED', `the camera answered the snapshot request with HTTP ${reply.status}`);
  // JPEG starts with SOI (FF D8) — anything else is an error page or another format.
  if (reply.body.length < 4 || reply.body[0] !== 0xff || reply.body[1] !== 0xd8) throw new GatewayError('UNSUPPORTED', 'the camera’s snapshot is not a JPEG');
  return reply.body;
}

/** One GET: settles once, within the deadline, reading at most `maxBytes` of body. */
function get(url: URL, authorization: string | undefined, timeoutMs: number, maxBytes: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (err: GatewayError | undefined, reply?: Reply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => finish(new GatewayError('TIMEOUT', `the camera’s snapshot did not arrive within ${timeoutMs} ms`)), timeoutMs);
    const req = lib.request(url, { method: 'GET', agent: false, headers: authorization ? { authorization } : {} }, (res) => {
      const status = res.statusCode ?? 0;
      const challenges = ([] as string[]).concat(res.headers['www-authenticate'] ?? []);
      const declared = Number(res.headers['content-length']);
      if (status === 200 && Number.isFinite(declared) && declared > maxBytes) {
        finish(new GatewayError('UNSUPPORTED', `the camera’s snapshot is ${declared} bytes, more than the ${maxBytes} the gateway relays`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          finish(new GatewayError('UNSUPPORTED', `the camera’s snapshot is larger than the ${maxBytes} bytes the gateway relays`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status, challenges, body: Buffer.concat(chunks) }));
      res.on('error', (err) => finish(new GatewayError('UNREACHABLE', `the camera’s snapshot broke off: ${err.message}`)));
    });
    req.on('error', (err) => finish(new GatewayError('UNREACHABLE', `cannot reach the camera’s snapshot service: ${err.message}`)));
    req.end();
  });
}
