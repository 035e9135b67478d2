import { parseDuration, parseTerminationTime } from './iso-duration';
import { SUBSCRIPTION_PATH_PREFIX, serviceUrl, type ServiceContext } from './onvif-camera-model';
import type { OnvifEventMessage, PullPointManager, PullPointSubscription } from './pull-point-manager';
import { attr, child, escapeXml as x, faults, text, type SoapFault, type SoapRequest } from './soap-envelope';

/** Topics the simulated camera can raise (ONVIF topic namespace tns1, Core §9.5 and Appendix). */
export const TOPICS = {
  motionAlarm: 'tns1:VideoSource/MotionAlarm',
  cellMotion: 'tns1:RuleEngine/CellMotionDetector/Motion',
  tamper: 'tns1:VideoSource/GlobalSceneChange/ImagingService',
} as const;

export const CONCRETE_SET_DIALECT = 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet';
const CONCRETE_DIALECT = 'http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete';

export interface EventServiceLimits {
  /** longest subscription lifetime granted; longer requests are clamped. Default 1 h. */
  maxTerminationMs: number;
  /** lifetime when CreatePullPointSubscription names none. Default 60 s. */
  defaultTerminationMs: number;
  /** longest PullMessages wait; longer Timeouts are clamped (the agsh client always asks for PT1M). */
  maxPullTimeoutMs: number;
  /** largest MessageLimit honoured; larger ones are clamped. */
  maxMessageLimit: number;
}

export const DEFAULT_EVENT_LIMITS: EventServiceLimits = {
  maxTerminationMs: 3_600_000,
  defaultTerminationMs: 60_000,
  maxPullTimeoutMs: 60_000,
  maxMessageLimit: 100,
};

export interface EventServiceDeps {
  pullPoints: PullPointManager;
  limits: EventServiceLimits;
  /** the current state of every property topic, to start a subscription with */
  initialMessages(cameraNowMs: number): OnvifEventMessage[];
  /** host clock, the one the manager keeps expiry in */
  hostNowMs(): number;
}

/** Operations at the events service address (ONVIF Event Service, ver10). */
export function handleEventOperation(req: SoapRequest, ctx: ServiceContext, deps: EventServiceDeps): string | SoapFault | undefined {
  switch (req.operation) {
    case 'GetServiceCapabilities':
      return `<tev:GetServiceCapabilitiesResponse>${eventServiceCapabilities(deps.pullPoints.maxSubscriptions)}</tev:GetServiceCapabilitiesResponse>`;
    case 'GetEventProperties':
      return GET_EVENT_PROPERTIES;
    case 'CreatePullPointSubscription':
      return createPullPoint(req, ctx, deps);
    default:
      return undefined;
  }
}

/** Operations at a subscription's address (PullMessages; Renew, Unsubscribe of WS-BaseNotification). */
export function handleSubscriptionOperation(
  req: SoapRequest,
  ctx: ServiceContext,
  deps: EventServiceDeps,
  id: string,
  signal: AbortSignal | undefined,
): string | SoapFault | Promise<string | SoapFault> | undefined {
  const { pullPoints } = deps;
  switch (req.operation) {
    case 'PullMessages': {
      if (pullPoints.get(id) === undefined) return faults.resourceUnknown(ctx.nowMs);
      const params = parsePullMessages(req, deps.limits);
      if (!params.ok) return faults.invalidArgVal(params.reason);
      const hostAtRequest = deps.hostNowMs();
      return pullPoints.pull(id, params.timeoutMs, params.messageLimit, signal).then((result) => {
        if (!result.ok) return faults.resourceUnknown(ctx.nowMs);
        // The wait may have been long: stamp the reply with the clock at reply time.
        const now = ctx.nowMs + (deps.hostNowMs() - hostAtRequest);
        return (
          `<tev:PullMessagesResponse><tev:CurrentTime>${iso(now)}</tev:CurrentTime>` +
          `<tev:TerminationTime>${iso(terminationOnCameraClock(result.subscription, now, deps))}</tev:TerminationTime>` +
          result.messages.map(notificationXml).join('') +
          '</tev:PullMessagesResponse>'
        );
      });
    }
    case 'Renew': {
      // An absent TerminationTime (seen from hand-written clients) gets the default lifetime.
      const requested = child(req.body, 'TerminationTime');
      const ttl = requested === undefined ? deps.limits.defaultTerminationMs : parseTerminationTime(text(requested), ctx.nowMs, deps.limits.maxTerminationMs);
      if (pullPoints.get(id) === undefined) return faults.resourceUnknown(ctx.nowMs);
      if (ttl === undefined) return faults.unacceptableTerminationTime(ctx.nowMs, false);
      const sub = pullPoints.renew(id, ttl);
      if (sub === undefined) return faults.resourceUnknown(ctx.nowMs);
      return (
        // The lifetime granted, on the camera clock of this request (the host-clock expiry may be a millisecond later).
        `<wsnt:RenewResponse><wsnt:TerminationTime>${iso(ctx.nowMs + ttl)}</wsnt:TerminationTime>` +
        `<wsnt:CurrentTime>${iso(ctx.nowMs)}</wsnt:CurrentTime></wsnt:RenewResponse>`
      );
    }
    case 'Unsubscribe':
      return pullPoints.remove(id) ? '<wsnt:UnsubscribeResponse/>' : faults.resourceUnknown(ctx.nowMs);
    case 'SetSynchronizationPoint':
      // Events §9.1.2: re-send the current state of every property. Queued like any other message.
      if (pullPoints.get(id) === undefined) return faults.resourceUnknown(ctx.nowMs);
      pullPoints.publish(deps.initialMessages(ctx.nowMs), id);
      return '<tev:SetSynchronizationPointResponse/>';
    default:
      return undefined;
  }
}

export interface PullMessagesParams {
  timeoutMs: number;
  messageLimit: number;
}

/**
 * Parse PullMessages' `Timeout` (xsd:duration, required by the WSDL) and `MessageLimit` (int ≥ 1).
 * Out-of-range values are clamped to the camera's limits, as cameras do; garbage is refused.
 */
export function parsePullMessages(req: SoapRequest, limits: EventServiceLimits): { ok: true } & PullMessagesParams | { ok: false; reason: string } {
  const timeoutText = text(child(req.body, 'Timeout'));
  let timeoutMs = limits.maxPullTimeoutMs;
  if (timeoutText !== '') {
    const d = parseDuration(timeoutText);
    if (!d.ok && d.error !== 'out-of-range') return { ok: false, reason: 'Invalid Timeout' };
    timeoutMs = d.ok ? Math.min(d.ms, limits.maxPullTimeoutMs) : limits.maxPullTimeoutMs;
  }
  const limitText = text(child(req.body, 'MessageLimit')).trim();
  let messageLimit = limits.maxMessageLimit;
  if (limitText !== '') {
    if (!/^\+?\d{1,10}$/.test(limitText)) return { ok: false, reason: 'Invalid MessageLimit' };
    const n = Number(limitText);
    if (n < 1) return { ok: false, reason: 'Invalid MessageLimit' };
    messageLimit = Math.min(n, limits.maxMessageLimit);
  }
  return { ok: true, timeoutMs, messageLimit };
}

/**
 * Parse CreatePullPointSubscription's InitialTerminationTime and Filter/TopicExpression.
 * Supported topic expressions (ConcreteSet / Concrete dialects): alternatives joined by `|`, each
 * a concrete topic with any prefix, optionally ending in `//.` for a whole subtree.
 */
export function parseCreatePullPoint(
  req: SoapRequest,
  cameraNowMs: number,
  limits: EventServiceLimits,
): { ok: true; ttlMs: number; filter: (topic: string) => boolean } | { ok: false; error: 'termination' | 'topic' } {
  const ittNode = child(req.body, 'InitialTerminationTime');
  let ttlMs = limits.defaultTerminationMs;
  if (ittNode !== undefined) {
    const ttl = parseTerminationTime(text(ittNode), cameraNowMs, limits.maxTerminationMs);
    if (ttl === undefined) return { ok: false, error: 'termination' };
    ttlMs = ttl;
  }
  const expressionNode = child(child(req.body, 'Filter'), 'TopicExpression');
  if (expressionNode === undefined) return { ok: true, ttlMs, filter: () => true };
  const dialect = attr(expressionNode, 'Dialect') ?? CONCRETE_SET_DIALECT;
  if (dialect !== CONCRETE_SET_DIALECT && dialect !== CONCRETE_DIALECT) return { ok: false, error: 'topic' };
  const filter = topicFilter(text(expressionNode));
  return filter === undefined ? { ok: false, error: 'topic' } : { ok: true, ttlMs, filter };
}

const MAX_TOPIC_EXPRESSION = 1024;
const TOPIC_PART = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;

/** A predicate over `tns1:`-prefixed topics, or undefined when the expression is not understood. */
export function topicFilter(expression: string): ((topic: string) => boolean) | undefined {
  if (expression.length > MAX_TOPIC_EXPRESSION) return undefined;
  const alternatives: Array<{ path: string; subtree: boolean }> = [];
  for (const raw of expression.split('|')) {
    let alt = raw.trim();
    const subtree = alt.endsWith('//.');
    if (subtree) alt = alt.slice(0, -3);
    const parts = alt.split('/');
    if (parts.length === 0 || parts.length > 8 || !parts.every((p) => TOPIC_PART.test(p))) return undefined;
    // Prefixes are the client's choice; compare local names only.
    alternatives.push({ path: parts.map(localName).join('/'), subtree });
  }
  return (topic) => {
    const path = topic.split('/').map(localName).join('/');
    return alternatives.some((a) => path === a.path || (a.subtree && path.startsWith(`${a.path}/`)));
  };
}

function localName(part: string): string {
  const i = part.indexOf(':');
  return i < 0 ? part : part.slice(i + 1);
}

function createPullPoint(req: SoapRequest, ctx: ServiceContext, deps: EventServiceDeps): string | SoapFault {
  const parsed = parseCreatePullPoint(req, ctx.nowMs, deps.limits);
  if (!parsed.ok) {
    return parsed.error === 'termination' ? faults.unacceptableTerminationTime(ctx.nowMs, true) : faults.invalidTopicExpression(ctx.nowMs);
  }
  const initial = deps.initialMessages(ctx.nowMs).filter((m) => parsed.filter(m.topic));
  const sub = deps.pullPoints.create(parsed.ttlMs, parsed.filter, initial);
  if (sub === undefined) return faults.subscribeCreationFailed(ctx.nowMs);
  return (
    '<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>' +
    `<wsa:Address>${x(serviceUrl(ctx, SUBSCRIPTION_PATH_PREFIX + sub.id))}</wsa:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${iso(ctx.nowMs)}</wsnt:CurrentTime>` +
    `<wsnt:TerminationTime>${iso(ctx.nowMs + parsed.ttlMs)}</wsnt:TerminationTime>` +
    '</tev:CreatePullPointSubscriptionResponse>'
  );
}

/** Expiry is kept on the host clock; replies speak the camera's (possibly skewed) clock. */
function terminationOnCameraClock(sub: PullPointSubscription, cameraNowMs: number, deps: EventServiceDeps): number {
  return cameraNowMs + (sub.expiresAt - deps.hostNowMs());
}

export function eventServiceCapabilities(maxPullPoints: number): string {
  return (
    '<tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" ' +
    `WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" MaxPullPoints="${maxPullPoints}" ` +
    'PersistentNotificationStorage="false"/>'
  );
}

/** wsnt:NotificationMessage carrying one tt:Message (Core §9.3). */
export function notificationXml(m: OnvifEventMessage): string {
  const items = (list: OnvifEventMessage['source']): string =>
    list.map(([name, value]) => `<tt:SimpleItem Name="${x(name)}" Value="${x(value)}"/>`).join('');
  const op = m.propertyOperation === undefined ? '' : ` PropertyOperation="${m.propertyOperation}"`;
  return (
    `<wsnt:NotificationMessage><wsnt:Topic Dialect="${CONCRETE_SET_DIALECT}">${x(m.topic)}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${iso(m.utcMs)}"${op}>` +
    `<tt:Source>${items(m.source)}</tt:Source><tt:Data>${items(m.data)}</tt:Data>` +
    '</tt:Message></wsnt:Message></wsnt:NotificationMessage>'
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const description = (source: Array<[string, string]>, data: Array<[string, string]>): string => {
  const items = (list: Array<[string, string]>): string => list.map(([n, t]) => `<tt:SimpleItemDescription Name="${n}" Type="${t}"/>`).join('');
  return `<tt:MessageDescription IsProperty="true"><tt:Source>${items(source)}</tt:Source><tt:Data>${items(data)}</tt:Data></tt:MessageDescription>`;
};

/** GetEventPropertiesResponse (Events §9.9): the fixed topic set of the three topics we raise. */
const GET_EVENT_PROPERTIES =
  '<tev:GetEventPropertiesResponse>' +
  '<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
  '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>' +
  '<wstop:TopicSet>' +
  '<tns1:VideoSource>' +
  `<tns1:MotionAlarm wstop:topic="true">${description([['Source', 'tt:ReferenceToken']], [['State', 'xs:boolean']])}</tns1:MotionAlarm>` +
  '<tns1:GlobalSceneChange>' +
  `<tns1:ImagingService wstop:topic="true">${description([['Source', 'tt:ReferenceToken']], [['State', 'xs:boolean']])}</tns1:ImagingService>` +
  '</tns1:GlobalSceneChange>' +
  '</tns1:VideoSource>' +
  '<tns1:RuleEngine><tns1:CellMotionDetector>' +
  `<tns1:Motion wstop:topic="true">${description(
    [['VideoSourceConfigurationToken', 'tt:ReferenceToken'], ['VideoAnalyticsConfigurationToken', 'tt:ReferenceToken'], ['Rule', 'xs:string']],
    [['IsMotion', 'xs:boolean']],
  )}</tns1:Motion>` +
  '</tns1:CellMotionDetector></tns1:RuleEngine>' +
  '</wstop:TopicSet>' +
  `<wsnt:TopicExpressionDialect>${CONCRETE_SET_DIALECT}</wsnt:TopicExpressionDialect>` +
  `<wsnt:TopicExpressionDialect>${CONCRETE_DIALECT}</wsnt:TopicExpressionDialect>` +
  '<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
  '<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>' +
  '</tev:GetEventPropertiesResponse>';
