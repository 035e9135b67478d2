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

/**
 * What the gateway knows of a camera's stream.
 * - `idle`: nobody watches it; not pulled.
 * - `starting`: the first connection of a pull is being made.
 * - `streaming`: video arrives.
 * - `stalled`: the camera stopped sending video (no RTP for 5 s) with its session still open; the
 *   gateway reconnects underneath, viewers stay connected.
 * - `failing`: connecting or streaming failed (`reason` says why); retried with backoff while
 *   someone watches, viewers stay connected.
 * - `offline`: the camera does not answer at all (its ONVIF event pull and/or stream have been
 *   failing for a while); sent with a `camera_offline` event.
 */
export const CameraState = Type.Union([
  Type.Literal('idle'),
  Type.Literal('starting'),
  Type.Literal('streaming'),
  Type.Literal('stalled'),
  Type.Literal('failing'),
  Type.Literal('offline'),
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

/** A unique id minted by the gateway (a UUID), for an event or a request. */
const EventId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' });
/** Milliseconds since the Unix epoch, as `Date.now()` gives them. */
const EpochMs = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });
const Secret = Type.String({ maxLength: 256 });
const Url = Type.String({ minLength: 1, maxLength: 2048 });

export const EventKind = Type.Union([Type.Literal('motion'), Type.Literal('tamper'), Type.Literal('camera_offline'), Type.Literal('camera_online')]);
export type EventKind = Static<typeof EventKind>;

/**
 * Something that happened at a school, stored in the gateway's outbox before it is sent and sent
 * again (same `id`, same `seq`) until the centre acks it. The centre stores it idempotently by
 * `id`; `seq` (per gateway, strictly increasing, never reused, survives restarts) gives the order.
 */
export const GatewayEvent = Type.Object(
  {
    id: EventId,
    seq: Type.Integer({ minimum: 1 }),
    cameraId: Id,
    kind: EventKind,
    /** motion/tamper: true when it starts, false when it ends; absent for camera_offline/online */
    active: Type.Optional(Type.Boolean()),
    /** when the gateway observed it */
    at: EpochMs,
    /** the camera's own timestamp (ONVIF UtcTime), as the camera sent it; its clock may be wrong */
    cameraTime: Type.Optional(Type.String({ maxLength: 64 })),
    /** for people: why a camera went offline, say */
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);
export type GatewayEvent = Static<typeof GatewayEvent>;

/** Most events in one `events` message (the outbox drains in batches of this size). */
export const MAX_EVENTS_PER_MESSAGE = 100;
/** Most ids in one `events.ack`. */
export const MAX_ACK_IDS = 1000;

/** One camera's health, as the gateway measures it (sent every few seconds and on every change). */
export const CameraHealth = Type.Object(
  {
    cameraId: Id,
    state: CameraState,
    reason: Type.Optional(Reason),
    /** whether the camera answers at all (event pull or stream); absent while unknown */
    online: Type.Optional(Type.Boolean()),
    /** frames per second over the last measurement window (0 when not pulled) */
    fps: Type.Number({ minimum: 0, maximum: 1000 }),
    bitrateKbps: Type.Number({ minimum: 0, maximum: 10_000_000 }),
    lastFrameAt: Type.Optional(EpochMs),
    /** time between the last two key frames */
    keyframeIntervalMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    /** reconnects of the stream since the gateway started */
    reconnects: Type.Integer({ minimum: 0 }),
    width: Type.Optional(Type.Integer({ minimum: 1, maximum: 16384 })),
    height: Type.Optional(Type.Integer({ minimum: 1, maximum: 16384 })),
    transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
    /** ONVIF event pull: `ok`, `failing`, or `none` for cameras without one (plain RTSP) */
    events: Type.Union([Type.Literal('ok'), Type.Literal('failing'), Type.Literal('none')]),
  },
  { additionalProperties: false },
);
export type CameraHealth = Static<typeof CameraHealth>;

/** A camera as the centre (or school IT through it) registers it with a gateway. Same fields as the gateway's YAML `cameras:` entries. */
export const CameraRegistration = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    onvif: Type.Optional(
      Type.Object(
        { xaddr: Type.String({ maxLength: 2048, pattern: '^https?://' }), username: Secret, password: Secret, profile: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('sub')])) },
        { additionalProperties: false },
      ),
    ),
    rtsp: Type.Optional(
      Type.Object({ url: Type.String({ maxLength: 2048, pattern: '^rtsp://' }), username: Type.Optional(Secret), password: Type.Optional(Secret) }, { additionalProperties: false }),
    ),
    /** `tcp` (default): interleaved; `udp`: UDP, falling back to TCP when no packet arrives */
    transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
    /** RTSP Basic auth sends the password in the clear; refused unless allowed here */
    allowBasicAuth: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CameraRegistration = Static<typeof CameraRegistration>;

export const StreamProfile = Type.Object(
  {
    token: Type.String({ maxLength: 128 }),
    name: Type.String({ maxLength: 200 }),
    width: Type.Integer({ minimum: 1, maximum: 16384 }),
    height: Type.Integer({ minimum: 1, maximum: 16384 }),
    fps: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
    encoding: Type.Optional(Type.String({ maxLength: 32 })),
    /** without credentials */
    rtspUri: Type.Optional(Url),
  },
  { additionalProperties: false },
);
export type StreamProfile = Static<typeof StreamProfile>;

/** A camera found by WS-Discovery. */
export const DiscoveredDevice = Type.Object(
  {
    /** the ONVIF device service address, resolved against the address the reply came from */
    xaddr: Url,
    /** WS-Discovery endpoint address (`urn:uuid:…`): the camera's identity across IP changes */
    endpoint: Type.String({ maxLength: 2048 }),
    /** the address the reply came from */
    address: Type.String({ maxLength: 64 }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    hardware: Type.Optional(Type.String({ maxLength: 200 })),
    location: Type.Optional(Type.String({ maxLength: 200 })),
    /** filled when credentials were given and the camera accepted them */
    profiles: Type.Array(StreamProfile, { maxItems: 64 }),
    /** why `profiles` is empty although credentials were given */
    error: Type.Optional(Reason),
  },
  { additionalProperties: false },
);
export type DiscoveredDevice = Static<typeof DiscoveredDevice>;

export const CheckGrade = Type.Union([Type.Literal('ready'), Type.Literal('works_with_reasons'), Type.Literal('not_supported')]);
export type CheckGrade = Static<typeof CheckGrade>;

/** One finding of a camera check, in words for school IT. */
export const CheckReason = Type.Object(
  { code: Type.String({ maxLength: 64 }), en: Reason, cs: Reason },
  { additionalProperties: false },
);
export type CheckReason = Static<typeof CheckReason>;

/** What `check` measured of a camera's stream and how fit it is for live view. Unknown values are null. */
export const CheckResult = Type.Object(
  {
    url: Url,
    codec: Type.Union([Type.String({ maxLength: 32 }), Type.Null()]),
    profile: Type.Union([Type.String({ maxLength: 32 }), Type.Null()]),
    width: Type.Union([Type.Integer({ minimum: 1, maximum: 16384 }), Type.Null()]),
    height: Type.Union([Type.Integer({ minimum: 1, maximum: 16384 }), Type.Null()]),
    fps: Type.Union([Type.Number({ minimum: 0, maximum: 1000 }), Type.Null()]),
    gopSeconds: Type.Union([Type.Number({ minimum: 0, maximum: 3600 }), Type.Null()]),
    bframes: Type.Union([Type.Boolean(), Type.Null()]),
    bitrateKbps: Type.Union([Type.Number({ minimum: 0, maximum: 10_000_000 }), Type.Null()]),
    audioCodec: Type.Union([Type.String({ maxLength: 32 }), Type.Null()]),
    /** ONVIF SetSynchronizationPoint available: a new viewer gets a key frame at once */
    keyframeOnDemand: Type.Boolean(),
    grade: CheckGrade,
    reasons: Type.Array(CheckReason, { maxItems: 32 }),
  },
  { additionalProperties: false },
);
export type CheckResult = Static<typeof CheckResult>;

/** Largest snapshot a gateway relays (JPEG bytes); a camera sending more is refused (`UNSUPPORTED`). */
export const MAX_SNAPSHOT_BYTES = 2 * 1024 * 1024;
/** JPEG bytes per `snapshot.result` part: in base64 a part stays far below {@link MAX_LINK_MESSAGE_BYTES}. */
export const SNAPSHOT_PART_BYTES = 160 * 1024;
/** Parts a snapshot may take at most. */
export const MAX_SNAPSHOT_PARTS = Math.ceil(MAX_SNAPSHOT_BYTES / SNAPSHOT_PART_BYTES);

/** Why a request from the centre failed. */
export const RequestErrorCode = Type.Union([
  Type.Literal('BAD_REQUEST'),
  Type.Literal('UNREACHABLE'),
  Type.Literal('AUTH'),
  Type.Literal('TIMEOUT'),
  Type.Literal('UNSUPPORTED'),
  Type.Literal('CONFLICT'),
  Type.Literal('NOT_FOUND'),
  Type.Literal('BUSY'),
  Type.Literal('INTERNAL'),
]);
export type RequestErrorCode = Static<typeof RequestErrorCode>;

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
/** Events from the outbox, oldest first; resent until acked. */
export const EventsMessage = msg('events', { events: Type.Array(GatewayEvent, { minItems: 1, maxItems: MAX_EVENTS_PER_MESSAGE }) });
/** Every camera's health (all of them, not only the changed ones). */
export const HealthMessage = msg('health', { cameras: Type.Array(CameraHealth, { maxItems: 1024 }) });
export const DiscoverResultMessage = msg('discover.result', { requestId: EventId, devices: Type.Array(DiscoveredDevice, { maxItems: 1024 }) });
export const CheckResultMessage = msg('check.result', { requestId: EventId, result: CheckResult });
export const CameraRegisteredMessage = msg('camera.registered', { requestId: EventId, camera: CameraInventory });
export const CameraUnregisteredMessage = msg('camera.unregistered', { requestId: EventId, cameraId: Id });
/**
 * One part of a camera's snapshot (a JPEG from its ONVIF snapshot URI), base64, in order: parts
 * 0…`parts`−1 together are the picture. Several parts keep every frame below the link's size limit.
 */
export const SnapshotResultMessage = msg('snapshot.result', {
  requestId: EventId,
  cameraId: Id,
  part: Type.Integer({ minimum: 0, maximum: MAX_SNAPSHOT_PARTS - 1 }),
  parts: Type.Integer({ minimum: 1, maximum: MAX_SNAPSHOT_PARTS }),
  data: Type.String({ minLength: 4, maxLength: Math.ceil(SNAPSHOT_PART_BYTES / 3) * 4, pattern: '^[A-Za-z0-9+/]+={0,2}$' }),
});
/** The typed failure of any request (`discover`, `check`, `camera.register`, `camera.unregister`, `snapshot`). */
export const RequestFailedMessage = msg('request.failed', { requestId: EventId, code: RequestErrorCode, message: Reason });

// centre → gateway
export const WelcomeMessage = msg('welcome', { gatewayId: Id, heartbeatMs: Type.Integer({ minimum: 100, maximum: 600_000 }) });
/**
 * Start relaying a camera. `profile`: the camera's largest (`main`, default) or smallest (`sub`)
 * ONVIF profile; a camera with one stream sends that one whatever is asked.
 */
export const StreamStartMessage = msg('stream.start', { streamId: Id, cameraId: Id, profile: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('sub')])) });
export const StreamAnswerMessage = msg('stream.answer', { streamId: Id, sdp: Sdp });
export const StreamStopMessage = msg('stream.stop', { streamId: Id, reason: Reason });
/** The centre has stored these events (idempotently, by id): the gateway may forget them. */
export const EventsAckMessage = msg('events.ack', { ids: Type.Array(EventId, { minItems: 1, maxItems: MAX_ACK_IDS }) });
/** Find cameras: multicast on `interface` (every multicast interface when absent) and/or directed probes to `range`. */
export const DiscoverMessage = msg('discover', {
  requestId: EventId,
  interface: Type.Optional(Type.String({ maxLength: 64 })),
  /** `10.0.0.1-10.0.0.254` or `10.0.0.0/24`, at most 4096 addresses */
  range: Type.Optional(Type.String({ maxLength: 64 })),
  /** Send the multicast Probe (on `interface`, or every multicast interface); default true. False: directed probes to `range` only. */
  multicast: Type.Optional(Type.Boolean()),
  username: Type.Optional(Secret),
  password: Type.Optional(Secret),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 200, maximum: 30_000 })),
});
/** Check and grade one camera (an `rtsp://` URL or an ONVIF device service `http(s)://` URL). */
export const CheckMessage = msg('check', {
  requestId: EventId,
  url: Url,
  username: Type.Optional(Secret),
  password: Type.Optional(Secret),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 60_000 })),
});
/** Add or replace a camera in the gateway's registry. */
export const CameraRegisterMessage = msg('camera.register', { requestId: EventId, camera: CameraRegistration });
export const CameraUnregisterMessage = msg('camera.unregister', { requestId: EventId, cameraId: Id });
/** A JPEG of what a camera sees now, from its ONVIF snapshot URI (`main` profile unless asked otherwise). */
export const SnapshotMessage = msg('snapshot', { requestId: EventId, cameraId: Id, profile: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('sub')])) });

// both ways
export const PingMessage = msg('ping', { t: Type.Number() });
export const PongMessage = msg('pong', { t: Type.Number() });
export const ErrorMessage = msg('error', { code: Type.String({ maxLength: 64 }), message: Reason, streamId: Type.Optional(Id) });

export const LinkMessage = Type.Union([
  HelloMessage,
  CameraStateMessage,
  StreamOfferMessage,
  StreamEndedMessage,
  EventsMessage,
  HealthMessage,
  DiscoverResultMessage,
  CheckResultMessage,
  CameraRegisteredMessage,
  CameraUnregisteredMessage,
  SnapshotResultMessage,
  RequestFailedMessage,
  WelcomeMessage,
  StreamStartMessage,
  StreamAnswerMessage,
  StreamStopMessage,
  EventsAckMessage,
  DiscoverMessage,
  CheckMessage,
  CameraRegisterMessage,
  CameraUnregisterMessage,
  SnapshotMessage,
  PingMessage,
  PongMessage,
  ErrorMessage,
]);
export type LinkMessage = Static<typeof LinkMessage>;
export type LinkMessageOf<T extends LinkMessage['type']> = Extract<LinkMessage, { type: T }>;

const checker = TypeCompiler.Compile(LinkMessage);
/** One checker per message type, so a refusal names the field at fault instead of "Expected union value". */
const byType = new Map(LinkMessage.anyOf.map((member) => [member.properties.type.const as string, TypeCompiler.Compile(member)]));

function firstError(value: unknown): string {
  const type = typeof value === 'object' && value !== null && Object.hasOwn(value, 'type') ? (value as { type: unknown }).type : undefined;
  const member = typeof type === 'string' ? byType.get(type) : undefined;
  if (typeof value === 'object' && value !== null && !member) return `/type ${typeof type === 'string' ? `unknown message type ${JSON.stringify(type.slice(0, 40))}` : 'missing'}`;
  const first = (member ?? checker).Errors(value).First();
  return first ? `${first.path || '/'} ${first.message}` : 'does not match the link schema';
}

export class LinkMessageError extends Error {
  readonly code = 'LINK_BAD_MESSAGE';
}

/** Validates a message about to be sent with the schema the receiver will use; throws `LinkMessageError` with the first violation. */
export function checkLinkMessage(m: LinkMessage): void {
  const value: unknown = m;
  if (checker.Check(value)) return;
  throw new LinkMessageError(`outgoing ${String((value as { type?: unknown }).type)}: ${firstError(value)}`);
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
  throw new LinkMessageError(firstError(value));
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
