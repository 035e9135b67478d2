import { XMLParser } from 'fast-xml-parser';

/** Namespaces used in the replies (ONVIF Core 5.3, SOAP 1.2 Part 1 §5). */
export const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  ter: 'http://www.onvif.org/ver10/error',
  tt: 'http://www.onvif.org/ver10/schema',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tns1: 'http://www.onvif.org/ver10/topics',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  wsa: 'http://www.w3.org/2005/08/addressing',
  'wsrf-rw': 'http://docs.oasis-open.org/wsrf/rw-2',
  'wsrf-bf': 'http://docs.oasis-open.org/wsrf/bf-2',
  xs: 'http://www.w3.org/2001/XMLSchema',
} as const;

/** A parsed XML element as fast-xml-parser shapes it: text, or an object of children/attributes. */
export type XmlNode = string | { [key: string]: unknown };

/**
 * A SOAP 1.2 fault (ONVIF Core §5.11 error handling). `subcodes` are QNames with the `ter:` prefix, outermost
 * first; `status` is the HTTP status from the SOAP 1.2 HTTP binding (Part 2 §7.5.1:
 * env:Sender → 400, env:Receiver → 500).
 */
export interface SoapFault {
  code: 'env:Sender' | 'env:Receiver';
  subcodes: string[];
  reason: string;
  status: number;
  /** already-escaped XML put in `env:Detail` (WS-BaseFaults carry their fault element there) */
  detail?: string;
}

export const faults = {
  notAuthorized: (): SoapFault => ({
    // ONVIF Core, table of generic faults: "Sender not Authorized"; the status is 400
    // as deployed cameras answer a rejected UsernameToken, not 401 (that one is for HTTP Digest).
    code: 'env:Sender', subcodes: ['ter:NotAuthorized'], reason: 'Sender not Authorized', status: 400,
  }),
  wellFormed: (): SoapFault => ({
    code: 'env:Sender', subcodes: ['ter:WellFormed'], reason: 'XML Well-formed violation', status: 400,
  }),
  actionNotSupported: (what = 'Optional Action Not Implemented'): SoapFault => ({
    code: 'env:Receiver', subcodes: ['ter:ActionNotSupported'], reason: what, status: 500,
  }),
  noSuchService: (): SoapFault => ({
    code: 'env:Receiver', subcodes: ['ter:ActionNotSupported', 'ter:NoSuchService'],
    reason: 'The requested service category is not supported', status: 500,
  }),
  noProfile: (): SoapFault => ({
    code: 'env:Sender', subcodes: ['ter:InvalidArgVal', 'ter:NoProfile'], reason: 'The requested profile token does not exist', status: 400,
  }),
  invalidStreamSetup: (): SoapFault => ({
    code: 'env:Sender', subcodes: ['ter:InvalidArgVal', 'ter:InvalidStreamSetup'],
    reason: 'Specification of Stream Type or Transport part in StreamSetup is not supported', status: 400,
  }),
  receiver: (reason: string): SoapFault => ({
    code: 'env:Receiver', subcodes: ['ter:Action'], reason, status: 500,
  }),
  invalidArgVal: (reason: string, detailCode?: string): SoapFault => ({
    code: 'env:Sender', subcodes: detailCode === undefined ? ['ter:InvalidArgVal'] : ['ter:InvalidArgVal', detailCode], reason, status: 400,
  }),
  /**
   * WS-ResourceFramework ResourceUnknownFault (WS-BaseNotification §6.1.3 / ONVIF Events §9.1): the
   * subscription addressed does not exist (never did, expired, unsubscribed, or lost).
   */
  resourceUnknown: (nowMs: number): SoapFault => baseFault('env:Sender', 'wsrf-rw:ResourceUnknownFault', 'The subscription does not exist', nowMs, 400),
  /** WS-BaseNotification: a termination time in the past or not parseable. */
  unacceptableTerminationTime: (nowMs: number, initial: boolean): SoapFault =>
    baseFault('env:Sender', initial ? 'wsnt:UnacceptableInitialTerminationTimeFault' : 'wsnt:UnacceptableTerminationTimeFault', 'Invalid termination time', nowMs, 400),
  /** WS-BaseNotification: the device has no room for another subscription. */
  subscribeCreationFailed: (nowMs: number): SoapFault =>
    baseFault('env:Receiver', 'wsnt:SubscribeCreationFailedFault', 'Maximum number of subscriptions reached', nowMs, 500),
  invalidTopicExpression: (nowMs: number): SoapFault =>
    baseFault('env:Sender', 'wsnt:InvalidTopicExpressionFault', 'Topic expression not supported', nowMs, 400),
};

/** A WS-BaseFaults fault: its QName as subcode and as the element in `env:Detail` with a Timestamp. */
function baseFault(code: SoapFault['code'], qname: string, reason: string, nowMs: number, status: number): SoapFault {
  return {
    code, subcodes: [qname], reason, status,
    detail: `<${qname}><wsrf-bf:Timestamp>${new Date(nowMs).toISOString()}</wsrf-bf:Timestamp></${qname}>`,
  };
}

/** The parts of a request the services look at; every lookup is by local name. */
export interface SoapRequest {
  /** local name of the first element in `Body`, e.g. `GetProfiles` */
  operation: string;
  /** that element */
  body: XmlNode;
  /** the `Header` element, if any */
  header: XmlNode | undefined;
}

export type ParseResult = { ok: true; request: SoapRequest } | { ok: false; fault: SoapFault };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Clients pick their own prefixes (agsh/onvif: `s:` and default namespaces; gSOAP: `SOAP-ENV:`),
  // so operations and WS-Security elements are matched by local name.
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

/**
 * Parse a SOAP request envelope. Never throws: garbage, DTDs and XML that is not a SOAP envelope
 * yield an `env:Sender` fault. The caller enforces the body size limit.
 */
export function parseSoapRequest(xml: string): ParseResult {
  // SOAP 1.2 Part 1 §5: "A SOAP message MUST NOT contain a Document Type Declaration". Refusing it
  // up front also keeps entity expansion (billion laughs) out of the parser.
  if (/<!DOCTYPE/i.test(xml)) return { ok: false, fault: faults.wellFormed() };
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch {
    // The parser's messages can quote the whole input: never echo them.
    return { ok: false, fault: faults.wellFormed() };
  }
  const envelope = child(doc, 'Envelope');
  const body = child(envelope, 'Body');
  if (body === undefined || typeof body === 'string') return { ok: false, fault: faults.wellFormed() };
  const operation = Object.keys(body).find((k) => !k.startsWith('@_') && k !== '#text');
  if (operation === undefined) return { ok: false, fault: faults.wellFormed() };
  const op = firstOf(body[operation]);
  return {
    ok: true,
    request: { operation, body: isNode(op) ? op : '', header: child(envelope, 'Header') },
  };
}

function isNode(v: unknown): v is XmlNode {
  return typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v));
}

function firstOf(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** First child element with this local name, or undefined. */
export function child(node: unknown, localName: string): XmlNode | undefined {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
  if (!Object.hasOwn(node, localName)) return undefined;
  const v = firstOf((node as Record<string, unknown>)[localName]);
  return isNode(v) ? v : undefined;
}

/** Follow a path of local names. */
export function path(node: unknown, ...names: string[]): XmlNode | undefined {
  let cur: unknown = node;
  for (const n of names) cur = child(cur, n);
  return cur as XmlNode | undefined;
}

/** Text content of an element (empty string if absent or element-only). */
export function text(node: XmlNode | undefined): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node;
  const t = node['#text'];
  return typeof t === 'string' || typeof t === 'number' ? String(t) : '';
}

/** Attribute by local name. */
export function attr(node: XmlNode | undefined, localName: string): string | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  const v = node[`@_${localName}`];
  return typeof v === 'string' ? v : undefined;
}

/** Escape for XML text and double-quoted attribute values. */
export function escapeXml(value: string | number | boolean): string {
  return String(value).replace(/[<>&"']/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

const ENVELOPE_OPEN =
  `<?xml version="1.0" encoding="UTF-8"?><env:Envelope` +
  Object.entries(NS).map(([prefix, uri]) => ` xmlns:${prefix}="${uri}"`).join('') +
  '>';

/** Wrap an already-escaped body fragment in a SOAP 1.2 envelope. */
export function soapEnvelope(bodyXml: string): string {
  return `${ENVELOPE_OPEN}<env:Body>${bodyXml}</env:Body></env:Envelope>`;
}

/** Serialise a fault (SOAP 1.2 Part 1 §5.4), subcodes nested outermost first. */
export function soapFaultXml(fault: SoapFault): string {
  let subcodes = '';
  for (let i = fault.subcodes.length - 1; i >= 0; i--) {
    subcodes = `<env:Subcode><env:Value>${escapeXml(fault.subcodes[i] ?? '')}</env:Value>${subcodes}</env:Subcode>`;
  }
  return soapEnvelope(
    `<env:Fault><env:Code><env:Value>${fault.code}</env:Value>${subcodes}</env:Code>` +
      `<env:Reason><env:Text xml:lang="en">${escapeXml(fault.reason)}</env:Text></env:Reason>` +
      (fault.detail === undefined ? '' : `<env:Detail>${fault.detail}</env:Detail>`) +
      '</env:Fault>',
  );
}
