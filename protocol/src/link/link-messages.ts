import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * The gateway link: one WebSocket per school gateway, dialled out by the gateway
 * (schools have NAT and no inbound ports). Every frame is a JSON object that is a
 * member of {@link LinkMessage}; both ends validate with the same compiled schema.
 */

/** Largest link frame accepted (an SDP with many candidates is a few KiB). */
export const MAX_LINK_MESSAGE_BYTES = 256 * 1024;

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' });
const Sdp = Type.String({ minLength: 1, maxLength: 64 * 1024 });
/** Longest human-readable reason a link message carries. */
export const MAX_REASON_LENGTH = 500;
const Reason = Type.String({ maxLength: MAX_REASON_LENGTH });

export const CameraState = Type.Union([
  Type.Literal('idle'),
  Type.Literal('starting'),
  Type.Literal('streaming'),
  Type.Literal('failing'),
]);
export type CameraState = Static<typeof CameraState>;

export const CameraInventory = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    state: CameraState,
    reason: Type.Optional(Reason),
    width: Type.Optional(Type.Integer({ minimum: 1, maximum: 16384 })),
    height: Type.Optional(Type.Integer({ minimum: 1, maximum: 16384 })),
  },
  { additionalProperties: false },
);
export type CameraInventory = Static<typeof CameraInventory>;

const msg = <T extends string, P extends Parameters<typeof Type.Object>[0]>(type: T, props: P) =>
  Type.Object({ type: Type.Literal(type), ...props }, { additionalProperties: false });

// gateway → centre
export const HelloMessage = msg('hello', {
  gatewayId: Id,
  schoolId: Id,
  version: Type.String({ maxLength: 64 }),
  cameras: Type.Array(CameraInventory, { maxItems: 1024 }),
});
export const CameraStateMessage = msg('camera.state', { camera: CameraInventory });
export const StreamOfferMessage = msg('stream.offer', { streamId: Id, cameraId: Id, sdp: Sdp });
export const StreamEndedMessage = msg('stream.ended', { streamId: Id, cameraId: Id, reason: Reason });

// centre → gateway
export const WelcomeMessage = msg('welcome', { gatewayId: Id, heartbeatMs: Type.Integer({ minimum: 100, maximum: 600_000 }) });
export const StreamStartMessage = msg('stream.start', { streamId: Id, cameraId: Id });
export const StreamAnswerMessage = msg('stream.answer', { streamId: Id, sdp: Sdp });
export const StreamStopMessage = msg('stream.stop', { streamId: Id, reason: Reason });

// both ways
export const PingMessage = msg('ping', { t: Type.Number() });
export const PongMessage = msg('pong', { t: Type.Number() });
export const ErrorMessage = msg('error', { code: Type.String({ maxLength: 64 }), message: Reason, streamId: Type.Optional(Id) });

export const LinkMessage = Type.Union([
  HelloMessage,
  CameraStateMessage,
  StreamOfferMessage,
  StreamEndedMessage,
  WelcomeMessage,
  StreamStartMessage,
  StreamAnswerMessage,
  StreamStopMessage,
  PingMessage,
  PongMessage,
  ErrorMessage,
]);
export type LinkMessage = Static<typeof LinkMessage>;
export type LinkMessageOf<T extends LinkMessage['type']> = Extract<LinkMessage, { type: T }>;

const checker = TypeCompiler.Compile(LinkMessage);

export class LinkMessageError extends Error {
  readonly code = 'LINK_BAD_MESSAGE';
}

/** Parses and validates one link frame. Throws `LinkMessageError` with the first schema violation. */
export function parseLinkMessage(raw: string | Buffer): LinkMessage {
  if (raw.length > MAX_LINK_MESSAGE_BYTES) throw new LinkMessageError(`message of ${raw.length} bytes exceeds ${MAX_LINK_MESSAGE_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString());
  } catch {
    throw new LinkMessageError('message is not JSON');
  }
  if (checker.Check(value)) return value;
  const first = checker.Errors(value).First();
  throw new LinkMessageError(first ? `${first.path || '/'} ${first.message}` : 'message does not match the link schema');
}

/** A reason (often an error message from a camera or werift) cut to what the schema accepts. */
export function linkReason(text: string): string {
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

export function encodeLinkMessage(m: LinkMessage): string {
  return JSON.stringify(m);
}

/** Header carrying the gateway credentials on the link's WebSocket upgrade. */
export const GATEWAY_AUTH_HEADER = 'authorization';
/** `Bearer base64url(gatewayId).base64url(secret)`: each part encoded alone, so neither may break the other. */
export const gatewayAuthValue = (gatewayId: string, secret: string): string =>
  `Bearer ${Buffer.from(gatewayId).toString('base64url')}.${Buffer.from(secret).toString('base64url')}`;
export function parseGatewayAuth(value: string | undefined): { gatewayId: string; secret: string } | undefined {
  const m = /^Bearer ([A-Za-z0-9_-]{1,256})\.([A-Za-z0-9_-]{1,512})$/.exec(value ?? '');
  if (!m) return undefined;
  const gatewayId = Buffer.from(m[1], 'base64url').toString();
  const secret = Buffer.from(m[2], 'base64url').toString();
  return gatewayId && secret ? { gatewayId, secret } : undefined;
}

/** Fails compilation when a `switch` over a union misses a member. */
export function unreachable(x: never): never {
  throw new Error(`unreachable case: ${JSON.stringify(x)}`);
}
