import { createHash, randomBytes } from 'node:crypto';

/**
 * RTSP credentials issued per grant, for the centre's RTSP re-export to police video systems.
 *
 * The grant module issues a user name and a password when a grant is created and stores only
 * the Digest HA1 (RFC 2617 §3.2.2.2: `MD5(username:realm:password)`), never the password: the
 * password is shown once, inside the URLs of the `POST /api/grants` answer. The re-export server
 * authenticates RTSP clients with Digest against {@link RtspGrantAccess.lookup} on every request
 * and listens on `AccessRevocations` (`{ grant: grantId }`) to cut running sessions when the
 * grant ends.
 *
 * URLs: `rtsp://<user>:<password>@<host:port>/grant/<grantId>/<cameraId>`, where `<cameraId>` is
 * the centre's public camera id percent-encoded (`encodeURIComponent`: its `:` becomes `%3A`).
 */
export interface RtspGrantAccess {
  /** Digest lookup: the grant credentials for this RTSP user name, or undefined when unknown/expired/revoked. */
  lookup(username: string): { grantId: string; caseRef: string; forceId: string; ha1: string; cameraIds: readonly string[] } | undefined;
}

/** The Digest realm of the re-export. */
export const RTSP_REALM = 'schoolcam';

/** Digest HA1 = MD5(`${username}:${realm}:${password}`), hex. */
export function digestHa1(username: string, password: string, realm = RTSP_REALM): string {
  return createHash('md5').update(`${username}:${realm}:${password}`).digest('hex');
}

export interface IssuedRtspCredentials {
  username: string;
  /** Shown once; never stored. */
  password: string;
  ha1: string;
}

/** A fresh user name (`g` + 16 hex digits) and a 144-bit URL-safe password. */
export function issueRtspCredentials(): IssuedRtspCredentials {
  const username = `g${randomBytes(8).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  return { username, password, ha1: digestHa1(username, password) };
}

/** The re-export URL of one camera under a grant. `publicUrl` is `rtsp://host:port` (config `rtspExport.publicUrl`). */
export function rtspGrantUrl(publicUrl: string, creds: { username: string; password: string }, grantId: string, cameraId: string): string {
  const base = new URL(publicUrl);
  return `${base.protocol}//${encodeURIComponent(creds.username)}:${encodeURIComponent(creds.password)}@${base.host}/grant/${encodeURIComponent(grantId)}/${encodeURIComponent(cameraId)}`;
}
