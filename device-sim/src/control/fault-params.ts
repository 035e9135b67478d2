import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** Request bodies of the simulator's control API, one schema per fault and event. */
export const FaultParams = {
  /** Drop every connection, refuse for `downSeconds`, come back with Hello; optionally with the clock reset to 2000-01-01. */
  reboot: Type.Object({ downSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })), resetClock: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
  /** Keep TCP open, send no RTP. `seconds` ends it by itself. */
  stall: Type.Object({ on: Type.Optional(Type.Boolean()), seconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600 })) }, { additionalProperties: false }),
  /** End every RTSP session (connections closed). */
  drop: Type.Object({}, { additionalProperties: false }),
  /** Change a profile's encoder settings live. */
  stream: Type.Object(
    {
      profile: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('sub')])),
      width: Type.Optional(Type.Integer({ minimum: 80, maximum: 3840, multipleOf: 2 })),
      height: Type.Optional(Type.Integer({ minimum: 32, maximum: 2160, multipleOf: 2 })),
      fps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 60 })),
      gopSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 60 })),
    },
    { additionalProperties: false },
  ),
  /** Camera clock = real time + offsetMs (WS-UsernameToken is checked against it). */
  'clock-skew': Type.Object({ offsetMs: Type.Number({ minimum: -10 * 365 * 86_400_000, maximum: 10 * 365 * 86_400_000 }) }, { additionalProperties: false }),
  /** Which credentials the camera accepts. */
  auth: Type.Object(
    { mode: Type.Union([Type.Literal('normal'), Type.Literal('digest-only'), Type.Literal('basic-only'), Type.Literal('always-wrong')]) },
    { additionalProperties: false },
  ),
  /** Every ONVIF event subscription vanishes. */
  'lose-subscriptions': Type.Object({}, { additionalProperties: false }),
  /** Broken RTSP and/or SOAP replies. */
  malformed: Type.Object(
    {
      target: Type.Union([Type.Literal('rtsp'), Type.Literal('soap'), Type.Literal('both')]),
      on: Type.Optional(Type.Boolean()),
      seconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600 })),
    },
    { additionalProperties: false },
  ),
  /** WS-Discovery misbehaviour: XAddrs with 0.0.0.0, every ProbeMatch twice. */
  discovery: Type.Object({ zeroXAddrs: Type.Optional(Type.Boolean()), duplicates: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
} as const;

export const EventParams = {
  motion: Type.Object({ state: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
  tamper: Type.Object({ state: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
} as const;

export type FaultName = keyof typeof FaultParams;
export type EventName = keyof typeof EventParams;
export type FaultParamsOf<F extends FaultName> = Static<(typeof FaultParams)[F]>;
export type EventParamsOf<E extends EventName> = Static<(typeof EventParams)[E]>;

const compiled = new Map<TSchema, ReturnType<typeof TypeCompiler.Compile>>();

/** Validates a body against a schema; returns the error text or undefined. */
export function checkParams(schema: TSchema, value: unknown): string | undefined {
  let c = compiled.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  if (c.Check(value)) return undefined;
  const e = c.Errors(value).First();
  return `${e?.path || '/'} ${e?.message ?? 'invalid'}`;
}

export const isFaultName = (s: string): s is FaultName => Object.hasOwn(FaultParams, s);
export const isEventName = (s: string): s is EventName => Object.hasOwn(EventParams, s);
