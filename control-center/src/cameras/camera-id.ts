/**
 * Camera ids are scoped by gateway. A gateway names its cameras with its own local ids (what
 * it sends on the link: `hello`, `camera.state`, `stream.offer`); the centre's public id — in
 * the API, the viewer socket, the audit log, the fan-out — is `<gatewayId>:<localId>`, e.g.
 * `gw-zs-sokolov:vchod`. So a gateway can only ever name cameras under its own id, and two
 * schools may use the same local ids without meeting. Gateway ids the centre issues contain
 * no `:`, so the first `:` splits a public id.
 */
export const CAMERA_ID_SEPARATOR = ':';

export function publicCameraId(gatewayId: string, localId: string): string {
  return `${gatewayId}${CAMERA_ID_SEPARATOR}${localId}`;
}

/** The gateway-local id of a public id, when the public id belongs to that gateway. */
export function localCameraId(gatewayId: string, publicId: string): string | undefined {
  const prefix = `${gatewayId}${CAMERA_ID_SEPARATOR}`;
  return publicId.startsWith(prefix) && publicId.length > prefix.length ? publicId.slice(prefix.length) : undefined;
}
