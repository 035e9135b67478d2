import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_LIMITS, TOPICS, handleSubscriptionOperation, notificationXml, parseCreatePullPoint, parsePullMessages, topicFilter, type EventServiceDeps } from '../../src/onvif/event-service';
import { parseDuration, parseTerminationTime } from '../../src/onvif/iso-duration';
import type { ServiceContext } from '../../src/onvif/onvif-camera-model';
import { PullPointManager, type OnvifEventMessage } from '../../src/onvif/pull-point-manager';
import { parseSoapRequest, type SoapRequest } from '../../src/onvif/soap-envelope';

function request(body: string): SoapRequest {
  const parsed = parseSoapRequest(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${body}</s:Body></s:Envelope>`);
  if (!parsed.ok) throw new Error('test envelope did not parse');
  return parsed.request;
}

const motion = (state: boolean, utcMs = 0): OnvifEventMessage => ({
  topic: TOPICS.motionAlarm, utcMs, propertyOperation: 'Changed', source: [['Source', 'vs0']], data: [['State', String(state)]],
});

/** Inputs that once broke (or could plausibly break) the parsers: replayed on every run. */
const DURATION_REGRESSIONS = ['', 'P', 'PT', '-P', 'P1YT', 'PT.5S', 'PT5.S', 'PT1e3S', 'PT-5S', 'P-1D', 'pt5s', 'PT5S ', ' PT5S', 'PT5SPT5S',
  `PT${'9'.repeat(13)}S`, `PT${'9'.repeat(12)}S`, 'P99999999999Y', 'PT0.0000000001S', 'PT1H1H', 'P1W1D', '\u0000PT1S', 'PT١S'];

describe('parseDuration (xsd:duration)', () => {
  it('reads the durations ONVIF clients send', () => {
    expect(parseDuration('PT5S')).toEqual({ ok: true, ms: 5000 });
    expect(parseDuration('PT1M')).toEqual({ ok: true, ms: 60_000 });
    expect(parseDuration('PT60S')).toEqual({ ok: true, ms: 60_000 });
    expect(parseDuration('PT0.5S')).toEqual({ ok: true, ms: 500 });
    expect(parseDuration('PT1H2M3.25S')).toEqual({ ok: true, ms: 3_723_250 });
    expect(parseDuration('P1DT1S')).toEqual({ ok: true, ms: 86_401_000 });
    expect(parseDuration('PT0S')).toEqual({ ok: true, ms: 0 });
    expect(parseDuration('-PT0S')).toEqual({ ok: true, ms: 0 });
  });

  it('refuses syntax errors, negatives and durations over the limit', () => {
    expect(parseDuration('')).toEqual({ ok: false, error: 'empty' });
    expect(parseDuration('P')).toEqual({ ok: false, error: 'syntax' });
    expect(parseDuration('PT')).toEqual({ ok: false, error: 'syntax' });
    expect(parseDuration('5S')).toEqual({ ok: false, error: 'syntax' });
    expect(parseDuration('PT5')).toEqual({ ok: false, error: 'syntax' });
    expect(parseDuration('-PT5S')).toEqual({ ok: false, error: 'negative' });
    expect(parseDuration('PT61S', 60_000)).toEqual({ ok: false, error: 'out-of-range' });
    expect(parseDuration(`PT${'1'.repeat(70)}S`)).toEqual({ ok: false, error: 'too-long' });
  });

  it('replays the kept regression inputs without throwing', () => {
    for (const s of DURATION_REGRESSIONS) {
      const r = parseDuration(s);
      if (r.ok) expect(Number.isSafeInteger(r.ms) && r.ms >= 0).toBe(true);
    }
  });

  it('never throws and never returns a negative, unsafe or over-limit value (fuzz)', () => {
    const piece = fc.constantFrom('P', 'T', 'Y', 'M', 'W', 'D', 'H', 'S', '.', '-', '0', '5', '99999999999', '1.5', ' ');
    const arbitrary = fc.oneof(fc.string({ maxLength: 40 }), fc.array(piece, { maxLength: 16 }).map((a) => a.join('')));
    fc.assert(
      fc.property(arbitrary, fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (s, max) => {
        const r = parseDuration(s, max);
        if (r.ok) {
          expect(Number.isSafeInteger(r.ms)).toBe(true);
          expect(r.ms).toBeGreaterThanOrEqual(0);
          expect(r.ms).toBeLessThanOrEqual(max);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips every well-formed PTnS (fuzz)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 86_400 }), (n) => {
      expect(parseDuration(`PT${n}S`)).toEqual({ ok: true, ms: n * 1000 });
    }));
  });
});

describe('parseTerminationTime (AbsoluteOrRelativeTimeType)', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  it('takes a duration or a future dateTime on the camera clock, clamped to the maximum', () => {
    expect(parseTerminationTime('PT60S', now, 3_600_000)).toBe(60_000);
    expect(parseTerminationTime('PT2H', now, 3_600_000)).toBe(3_600_000);
    expect(parseTerminationTime('2025-01-01T12:01:00Z', now, 3_600_000)).toBe(60_000);
    expect(parseTerminationTime('2025-01-01T11:59:00Z', now, 3_600_000)).toBeUndefined();
    expect(parseTerminationTime('PT0S', now, 3_600_000)).toBeUndefined();
    expect(parseTerminationTime('tomorrow', now, 3_600_000)).toBeUndefined();
  });
});

describe('PullMessages / CreatePullPointSubscription parameters', () => {
  it('clamps Timeout and MessageLimit to the camera limits (the agsh client always asks for PT1M)', () => {
    const limits = { ...DEFAULT_EVENT_LIMITS, maxPullTimeoutMs: 5000, maxMessageLimit: 10 };
    expect(parsePullMessages(request('<PullMessages><Timeout>PT1M</Timeout><MessageLimit>1000</MessageLimit></PullMessages>'), limits))
      .toEqual({ ok: true, timeoutMs: 5000, messageLimit: 10 });
    expect(parsePullMessages(request('<PullMessages><Timeout>PT2S</Timeout><MessageLimit>3</MessageLimit></PullMessages>'), limits))
      .toEqual({ ok: true, timeoutMs: 2000, messageLimit: 3 });
    expect(parsePullMessages(request('<PullMessages><Timeout>P9999999Y</Timeout></PullMessages>'), limits))
      .toEqual({ ok: true, timeoutMs: 5000, messageLimit: 10 });
  });

  it('refuses a Timeout or MessageLimit that is not one', () => {
    for (const body of ['<Timeout>5</Timeout>', '<Timeout>-PT5S</Timeout>', '<MessageLimit>0</MessageLimit>', '<MessageLimit>-1</MessageLimit>', '<MessageLimit>1e3</MessageLimit>']) {
      expect(parsePullMessages(request(`<PullMessages>${body}</PullMessages>`), DEFAULT_EVENT_LIMITS).ok).toBe(false);
    }
  });

  it('reads InitialTerminationTime and a topic filter', () => {
    const parsed = parseCreatePullPoint(
      request(
        '<CreatePullPointSubscription><Filter><TopicExpression Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">' +
          'tns1:RuleEngine//.|x:VideoSource/GlobalSceneChange/ImagingService</TopicExpression></Filter>' +
          '<InitialTerminationTime>PT10S</InitialTerminationTime></CreatePullPointSubscription>',
      ),
      Date.now(),
      DEFAULT_EVENT_LIMITS,
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.ttlMs).toBe(10_000);
    expect(parsed.filter(TOPICS.cellMotion)).toBe(true);
    expect(parsed.filter(TOPICS.tamper)).toBe(true);
    expect(parsed.filter(TOPICS.motionAlarm)).toBe(false);
  });

  it('refuses a past InitialTerminationTime and an unknown dialect', () => {
    expect(parseCreatePullPoint(request('<C><InitialTerminationTime>2000-01-01T00:00:00Z</InitialTerminationTime></C>'), Date.now(), DEFAULT_EVENT_LIMITS))
      .toEqual({ ok: false, error: 'termination' });
    expect(parseCreatePullPoint(request('<C><Filter><TopicExpression Dialect="urn:xpath">//*</TopicExpression></Filter></C>'), Date.now(), DEFAULT_EVENT_LIMITS))
      .toEqual({ ok: false, error: 'topic' });
    expect(topicFilter('tns1:Video Source')).toBeUndefined();
    expect(topicFilter('a/'.repeat(600))).toBeUndefined();
  });

  it('never throws on random PullMessages and CreatePullPointSubscription bodies (fuzz)', () => {
    const value = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('PT5S', 'PT1M', 'P', '-PT1S', '99999999999', '0', '1', 'tns1:VideoSource//.', '|', '//.', '2030-01-01T00:00:00Z'));
    const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    const body = fc.tuple(value, value, value, fc.boolean()).map(([a, b, c, dialect]) =>
      `<Op><Timeout>${esc(a)}</Timeout><MessageLimit>${esc(b)}</MessageLimit><InitialTerminationTime>${esc(a)}</InitialTerminationTime>` +
      `<Filter><TopicExpression${dialect ? ' Dialect="http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete"' : ''}>${esc(c)}</TopicExpression></Filter></Op>`);
    fc.assert(
      fc.property(body, (xml) => {
        const req = request(xml);
        const pull = parsePullMessages(req, DEFAULT_EVENT_LIMITS);
        if (pull.ok) {
          expect(pull.timeoutMs).toBeGreaterThanOrEqual(0);
          expect(pull.timeoutMs).toBeLessThanOrEqual(DEFAULT_EVENT_LIMITS.maxPullTimeoutMs);
          expect(pull.messageLimit).toBeGreaterThanOrEqual(1);
          expect(pull.messageLimit).toBeLessThanOrEqual(DEFAULT_EVENT_LIMITS.maxMessageLimit);
        }
        const create = parseCreatePullPoint(req, Date.now(), DEFAULT_EVENT_LIMITS);
        if (create.ok) {
          expect(create.ttlMs).toBeGreaterThan(0);
          expect(create.ttlMs).toBeLessThanOrEqual(DEFAULT_EVENT_LIMITS.maxTerminationMs);
          create.filter(TOPICS.motionAlarm);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('PullPointManager', () => {
  it('answers a pending pull as soon as a matching message is published', async () => {
    const m = new PullPointManager();
    const sub = m.create(60_000, () => true);
    expect(sub).toBeDefined();
    const pending = m.pull(sub!.id, 10_000, 10);
    m.publish(motion(true));
    const result = await pending;
    expect(result.ok && result.messages.map((x) => x.data)).toEqual([[['State', 'true']]]);
    m.close();
  });

  it('returns at the timeout with nothing, and a pull on an unknown id fails at once', async () => {
    const m = new PullPointManager();
    const sub = m.create(60_000, () => true)!;
    const result = await m.pull(sub.id, 20, 10);
    expect(result.ok && result.messages).toEqual([]);
    expect(await m.pull('nope', 1000, 10)).toEqual({ ok: false });
    m.close();
  });

  it('bounds the queue (oldest dropped) and the number of subscriptions', () => {
    const m = new PullPointManager({ maxSubscriptions: 2, maxQueue: 3 });
    const a = m.create(60_000, () => true)!;
    expect(m.create(60_000, () => true)).toBeDefined();
    expect(m.create(60_000, () => true)).toBeUndefined();
    for (let i = 0; i < 5; i++) m.publish(motion(i % 2 === 0, i));
    expect(a.dropped).toBe(2);
    return m.pull(a.id, 0, 10).then((r) => {
      expect(r.ok && r.messages.map((x) => x.utcMs)).toEqual([2, 3, 4]);
      m.close();
    });
  });

  it('removes expired subscriptions and honours renew', () => {
    let now = 1000;
    const m = new PullPointManager({ now: () => now });
    const a = m.create(100, () => true)!;
    const b = m.create(100, () => true)!;
    now = 1050;
    expect(m.renew(b.id, 1000)).toBeDefined();
    now = 1100;
    expect(m.get(a.id)).toBeUndefined();
    expect(m.get(b.id)).toBeDefined();
    expect(m.size).toBe(1);
    m.close();
  });

  it('dropAll and close end pending long-polls (no timer left behind)', async () => {
    const m = new PullPointManager();
    const a = m.create(60_000, () => true)!;
    const pending = m.pull(a.id, 60_000, 10);
    expect(m.dropAll()).toBe(1);
    expect(await pending).toEqual({ ok: false });
    const b = m.create(60_000, () => true)!;
    const pendingB = m.pull(b.id, 60_000, 10);
    m.close();
    expect(await pendingB).toEqual({ ok: false });
    expect(m.create(60_000, () => true)).toBeUndefined();
  });

  it('an aborted request stops waiting', async () => {
    const m = new PullPointManager();
    const a = m.create(60_000, () => true)!;
    const ac = new AbortController();
    const pending = m.pull(a.id, 60_000, 10, ac.signal);
    ac.abort();
    expect(await pending).toMatchObject({ ok: true, messages: [] });
    m.close();
  });
});

describe('event service over a manager', () => {
  it('a PullMessages after the subscription is dropped gets ResourceUnknownFault', async () => {
    const pullPoints = new PullPointManager();
    const deps: EventServiceDeps = { pullPoints, limits: DEFAULT_EVENT_LIMITS, initialMessages: () => [], hostNowMs: Date.now };
    const ctx = { camera: {} as ServiceContext['camera'], nowMs: Date.now(), host: '127.0.0.1', port: 80 };
    const sub = pullPoints.create(60_000, () => true)!;
    pullPoints.dropAll();
    const result = await handleSubscriptionOperation(request('<PullMessages><Timeout>PT1S</Timeout></PullMessages>'), ctx, deps, sub.id, undefined);
    expect(typeof result === 'object' && result?.subcodes).toEqual(['wsrf-rw:ResourceUnknownFault']);
  });

  it('escapes the message items', () => {
    const xml = notificationXml({ ...motion(true), source: [['Rule', 'a"<&']] });
    expect(xml).toContain('Value="a&quot;&lt;&amp;"');
    expect(xml).toContain('PropertyOperation="Changed"');
  });
});
