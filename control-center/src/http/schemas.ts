import { Type } from '@sinclair/typebox';

/**
 * Field schemas shared by the API's routes. Identifiers are narrow (no quotes, slashes, dots
 * runs or spaces), so injection and traversal strings never reach a query or a path; names
 * are free text without control characters or bidirectional overrides (which could make a
 * camera name on the dashboard read as something else).
 */
export const OrgId = Type.String({ minLength: 2, maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$', description: 'e.g. zs-sokolov' });
export const GatewayId = Type.String({ minLength: 2, maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$', description: 'e.g. gw-zs-sokolov; no ":"' });
/** `<gatewayId>:<localId>` (see cameras/camera-id.ts). */
export const CameraId = Type.String({ minLength: 3, maxLength: 300, pattern: '^[A-Za-z0-9._-]+:[A-Za-z0-9._:-]+$' });
export const UserId = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
export const Username = Type.String({ minLength: 3, maxLength: 64, pattern: '^[a-z0-9][a-z0-9._-]*$' });
export const Password = Type.String({ minLength: 10, maxLength: 256 });
export const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f\\u202a-\\u202e\\u2066-\\u2069]+$' });
/** WGS84 degrees. */
export const Latitude = Type.Number({ minimum: -90, maximum: 90 });
export const Longitude = Type.Number({ minimum: -180, maximum: 180 });
