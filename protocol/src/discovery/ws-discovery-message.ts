import { createHash, randomUUID } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * WS-Discovery 2005/04 messages as ONVIF Core §7 uses them: parsing Probe/Resolve, matching them
 * against a camera, and building ProbeMatches, ResolveMatches, Hello and Bye. No sockets here.
 */

/** Namespaces of WS-Discovery 2005/04 and of the ONVIF types a camera announces (ONVIF Core §7.3). */
export const WSD_NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  d: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
} as const;

/** The IPv4 multicast group and port of SOAP-over-UDP discovery (WS-Discovery 2005/04 §2.4). */
export const WSD_MULTICAST_GROUP = '239.255.255.250';
export const WSD_PORT = 3702;

export const WSD_ACTION = {
  probe: `${WSD_NS.d}/Probe`,
  probeMatches: `${WSD_NS.d}/ProbeMatches`,
  resolve: `${WSD_NS.d}/Resolve`,
  resolveMatches: `${WSD_NS.d}/ResolveMatches`,
  hello: `${WSD_NS.d}/Hello`,
  bye: `${WSD_NS.d}/Bye`,
} as const;

/** Well-known `To` of multicast messages (§2.4) and the anonymous reply address (WS-Addressing 2004/08 §2.1). */
export const WSD_TO_MULTICAST = 'urn:schemas-xmlsoap-org:ws:2005:04:discovery';
export const WSA_ANONYMOUS = `${WSD_NS.wsa}/role/anonymous`;

/** Scope matching rules (§5.1). The 2009/01 (WS-Discovery 1.1) spellings are accepted as aliases. */
export const MATCH_BY = {
  rfc3986: `${WSD_NS.d}/rfc3986`,
  uuid: `${WSD_NS.d}/uuid`,
  ldap: `${WSD_NS.d}/ldap`,
  strcmp0: `${WSD_NS.d}/strcmp0`,
} as const;
const MATCH_BY_ALIASES: Record<string, string> = {
  'http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/rfc3986': MATCH_BY.rfc3986,
  'http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/strcmp0': MATCH_BY.strcmp0,
};

/** One simulated camera as discovery sees it. */
export interface DiscoverableDevice {
  /** stable per camera; `urn:uuid:` is added when missing (see {@link stableDeviceUuid}) */
  uuid: string;
  /** scope onvif://www.onvif.org/name/<name> */
  name: string;
  /** scope onvif://www.onvif.org/hardware/<hardware> */
  hardware: string;
  /** scope onvif://www.onvif.org/location/<school> */
  school: string;
  /** the ONVIF device service URL, e.g. http://10.213.1.10:8080/onvif/device_service */
  xaddr: string;
  /** bumped when Types/Scopes/XAddrs change (§4.1); default 1 */
  metadataVersion?: number;
  /** per-camera fault: XAddrs host 0.0.0.0 (ORed with the responder-wide switch) */
  zeroXAddrs?: boolean;
  /** per-camera fault: every ProbeMatches sent twice (ORed with the responder-wide switch) */
  duplicates?: boolean;
}

/** A QName from a Probe's Types, with its prefix resolved (`ns` undefined if the prefix was not declared). */
export interface QName {
  ns: string | undefined;
  local: string;
}

export type DiscoveryRequest =
  | { kind: 'probe'; messageId: string; types: QName[]; scopes: string[]; matchBy: string }
  | { kind: 'resolve'; messageId: string; address: string };

export type DiscoveryParseError =
  | 'too-large'
  | 'dtd'
  | 'malformed'
  | 'not-soap'
  | 'not-a-request'
  | 'no-message-id'
  | 'too-many-items';

export type DiscoveryParseResult = { ok: true; request: DiscoveryRequest } | { ok: false; error: DiscoveryParseError };

/** Limits on what the parser accepts; SOAP-over-UDP datagrams cannot exceed 64 KiB anyway. */
export interface DiscoveryParseLimits {
  /** default 65536 */
  maxBytes?: number;
  /** types or scopes per Probe; default 64 */
  maxItems?: number;
  /** MessageID, scope and address length; default 2048 */
  maxTokenLength?: number;
}

/** The types every simulated camera is (ONVIF Core §7.3: an NVT announces both). */
export const DEVICE_TYPES: readonly QName[] = [
  { ns: WSD_NS.dn, local: 'NetworkVideoTransmitter' },
  { ns: WSD_NS.tds, local: 'Device' },
];

const MAX_DEPTH = 32;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
});

/** A parsed element with its namespace resolved from the xmlns declarations in scope. */
interface XmlElement {
  ns: string | undefined;
  local: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
  scope: ReadonlyMap<string, string>;
}

type OrderedNode = Record<string, unknown>;

function toElements(nodes: unknown, parentScope: ReadonlyMap<string, string>, depth: number): XmlElement[] {
  if (!Array.isArray(nodes) || depth > MAX_DEPTH) return [];
  const out: XmlElement[] = [];
  for (const node of nodes as OrderedNode[]) {
    if (node === null || typeof node !== 'object') continue;
    const name = Object.keys(node).find((k) => k !== ':@' && k !== '#text');
    if (name === undefined || name.startsWith('?') || name.startsWith('!')) continue;
    const rawAttrs = node[':@'];
    const attrs: Record<string, string> = {};
    let scope = parentScope;
    if (rawAttrs !== null && typeof rawAttrs === 'object') {
      for (const [k, v] of Object.entries(rawAttrs as Record<string, unknown>)) {
        if (typeof v !== 'string') continue;
        if (k === 'xmlns' || k.startsWith('xmlns:')) {
          if (scope === parentScope) scope = new Map(parentScope);
          (scope as Map<string, string>).set(k === 'xmlns' ? '' : k.slice(6), v);
        } else {
          attrs[k] = v;
        }
      }
    }
    const colon = name.indexOf(':');
    const prefix = colon < 0 ? '' : name.slice(0, colon);
    const body = node[name];
    let text = '';
    if (Array.isArray(body)) {
      for (const c of body as OrderedNode[]) {
        if (c !== null && typeof c === 'object' && typeof c['#text'] === 'string') text += c['#text'];
      }
    }
    out.push({
      ns: scope.get(prefix),
      local: colon < 0 ? name : name.slice(colon + 1),
      attrs,
      children: toElements(body, scope, depth + 1),
      text,
      scope,
    });
  }
  return out;
}

/** Children are found by local name: clients choose their own prefixes, and some forget to declare them. */
function child(el: XmlElement | undefined, local: string): XmlElement | undefined {
  return el?.children.find((c) => c.local === local);
}

function resolveQName(token: string, scope: ReadonlyMap<string, string>): QName {
  const colon = token.indexOf(':');
  if (colon < 0) return { ns: scope.get(''), local: token };
  return { ns: scope.get(token.slice(0, colon)), local: token.slice(colon + 1) };
}

/** Size, DTD and well-formedness checks every datagram passes before its elements are read. */
function parseDatagram(datagram: Uint8Array | string, maxBytes: number): { ok: true; roots: XmlElement[] } | { ok: false; error: 'too-large' | 'dtd' | 'malformed' } {
  const size = typeof datagram === 'string' ? Buffer.byteLength(datagram) : datagram.byteLength;
  if (size > maxBytes) return { ok: false, error: 'too-large' };
  const xml = typeof datagram === 'string' ? datagram : Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength).toString('utf8');
  // SOAP 1.2 Part 1 §5 forbids DTDs; refusing them also rules out entity-expansion tricks.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return { ok: false, error: 'dtd' };
  try {
    // The parser itself accepts unclosed elements; a truncated datagram must not be answered.
    if (XMLValidator.validate(xml) !== true) return { ok: false, error: 'malformed' };
    return { ok: true, roots: toElements(parser.parse(xml), new Map(), 0) };
  } catch {
    return { ok: false, error: 'malformed' };
  }
}

/**
 * Parse one datagram into a Probe or Resolve. Never throws: anything else, or anything malformed,
 * is a typed error the responder ignores (SOAP-over-UDP has no fault channel worth answering on).
 */
export function parseDiscoveryRequest(datagram: Uint8Array | string, limits: DiscoveryParseLimits = {}): DiscoveryParseResult {
  const maxItems = limits.maxItems ?? 64;
  const maxToken = limits.maxTokenLength ?? 2048;
  const parsed = parseDatagram(datagram, limits.maxBytes ?? 65536);
  if (!parsed.ok) return parsed;
  const roots = parsed.roots;
  const envelope = roots.find((r) => r.local === 'Envelope');
  const header = child(envelope, 'Header');
  const body = child(envelope, 'Body');
  if (!envelope || !body) return { ok: false, error: 'not-soap' };
  const request = body.children[0];
  // Only 2005/04 Probes: a WS-Discovery 1.1 (2009/01) Probe is another protocol version, and ONVIF
  // cameras ignore it.
  if (!request || request.ns !== WSD_NS.d || (request.local !== 'Probe' && request.local !== 'Resolve')) {
    return { ok: false, error: 'not-a-request' };
  }
  const messageId = child(header, 'MessageID')?.text.trim() ?? '';
  if (messageId === '' || messageId.length > maxToken) return { ok: false, error: 'no-message-id' };

  if (request.local === 'Resolve') {
    const address = child(child(request, 'EndpointReference'), 'Address')?.text.trim() ?? '';
    if (address === '' || address.length > maxToken) return { ok: false, error: 'not-a-request' };
    return { ok: true, request: { kind: 'resolve', messageId, address } };
  }
  const typesEl = child(request, 'Types');
  const scopesEl = child(request, 'Scopes');
  const typeTokens = splitList(typesEl?.text);
  const scopes = splitList(scopesEl?.text);
  if (typeTokens.length > maxItems || scopes.length > maxItems) return { ok: false, error: 'too-many-items' };
  if (typeTokens.some((t) => t.length > maxToken) || scopes.some((s) => s.length > maxToken)) {
    return { ok: false, error: 'too-many-items' };
  }
  const rawMatchBy = scopesEl?.attrs['MatchBy']?.trim() || MATCH_BY.rfc3986;
  return {
    ok: true,
    request: {
      kind: 'probe',
      messageId,
      types: typeTokens.map((t) => resolveQName(t, typesEl!.scope)),
      scopes,
      matchBy: MATCH_BY_ALIASES[rawMatchBy] ?? rawMatchBy,
    },
  };
}

function splitList(s: string | undefined): string[] {
  return (s ?? '').split(/[ \t\r\n]+/).filter((x) => x !== '');
}

/**
 * The scopes a camera announces; the same list GetScopes returns (device-service.ts), except that a
 * value of exactly `.` or `..` is sent as `%2E`/`%2E%2E` (device-service.ts does not do that yet).
 */
export function deviceScopes(d: DiscoverableDevice): string[] {
  return [
    `onvif://www.onvif.org/name/${scopeSegment(d.name)}`,
    `onvif://www.onvif.org/hardware/${scopeSegment(d.hardware)}`,
    `onvif://www.onvif.org/location/${scopeSegment(d.school)}`,
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/Profile/Streaming',
  ];
}

/**
 * Whether a Probe type is one of the camera's. A prefix the client did not declare is matched on the
 * local name alone: strict matching would hide the camera from sloppy clients, which real cameras
 * do not do.
 */
function typeMatches(t: QName): boolean {
  return DEVICE_TYPES.some((d) => d.local === t.local && (t.ns === undefined || t.ns === d.ns));
}

const URI_RE = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?[^#]*)?(?:#.*)?$/;

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * WS-Discovery 2005/04 §5.1, rule rfc3986: scheme and authority equal ignoring case; the probe's path
 * segments are a segment-wise prefix of the camera's; `.` and `..` never match; query and fragment
 * ignored; both sides unescaped first. A trailing `/` adds no segment.
 */
export function scopeMatchesRfc3986(probeScope: string, deviceScope: string): boolean {
  const a = URI_RE.exec(probeScope);
  const b = URI_RE.exec(deviceScope);
  if (!a || !b) return false;
  if (decodeSegment(a[1] ?? '').toLowerCase() !== decodeSegment(b[1] ?? '').toLowerCase()) return false;
  if (decodeSegment(a[2] ?? '').toLowerCase() !== decodeSegment(b[2] ?? '').toLowerCase()) return false;
  const sa = segments(a[3] ?? '');
  const sb = segments(b[3] ?? '');
  if (sa === undefined || sb === undefined || sa.length > sb.length) return false;
  return sa.every((s, i) => s === sb[i]);
}

function segments(path: string): string[] | undefined {
  const parts = path.split('/');
  if (parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  // The dot-segment ban applies to the literal text: `%2E` is how a camera named "." stays matchable.
  if (parts.some((s) => s === '.' || s === '..')) return undefined;
  return parts.map(decodeSegment);
}

/** encodeURIComponent, plus the dot-only segments §5.1 would make unmatchable. */
function scopeSegment(value: string): string {
  const e = encodeURIComponent(value);
  return e === '.' || e === '..' ? e.replace(/\./g, '%2E') : e;
}

/** Whether one probe scope matches one camera scope under `matchBy`; unknown rules never match (§5.1). */
export function scopeMatches(probeScope: string, deviceScope: string, matchBy: string): boolean {
  switch (matchBy) {
    case MATCH_BY.rfc3986:
      return scopeMatchesRfc3986(probeScope, deviceScope);
    case MATCH_BY.strcmp0:
      return probeScope === deviceScope;
    default:
      return false;
  }
}

/** §5.1: a Probe matches if every type it lists is one of the camera's and every scope matches one of its scopes. */
export function probeMatchesDevice(probe: Extract<DiscoveryRequest, { kind: 'probe' }>, device: DiscoverableDevice): boolean {
  if (!probe.types.every(typeMatches)) return false;
  if (probe.scopes.length === 0) return true;
  const own = deviceScopes(device);
  return probe.scopes.every((s) => own.some((o) => scopeMatches(s, o, probe.matchBy)));
}

/** `urn:uuid:<uuid>` of a camera. */
export function endpointAddress(d: DiscoverableDevice): string {
  return d.uuid.startsWith('urn:') ? d.uuid : `urn:uuid:${d.uuid}`;
}

/** A name-based UUID (RFC 9562 §5.5, SHA-1) so a camera keeps its endpoint address across restarts. */
export function stableDeviceUuid(seed: string): string {
  const h = createHash('sha1').update('schoolcam-sim/').update(seed).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

// XML 1.0 §2.2: control characters other than tab/CR/LF cannot appear even escaped.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escape text or attribute content, dropping characters XML cannot carry. */
export function escapeXml(s: string): string {
  return s.replace(INVALID_XML_CHARS, '').replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

/** `XAddrs` with the host replaced by 0.0.0.0, as some cameras announce before DHCP completes. */
export function zeroHost(xaddr: string): string {
  return xaddr.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/?#]*@)?)(\[[^\]]*\]|[^:/?#]*)/, '$10.0.0.0');
}

/** AppSequence (WS-Discovery 2005/04 application sequencing): InstanceId grows on each restart; MessageNumber per message. */
export interface AppSequence {
  instanceId: number;
  messageNumber: number;
}

export interface BuildOptions {
  appSequence: AppSequence;
  /** default: a fresh urn:uuid */
  messageId?: string;
  /** the zero-XAddrs fault for every camera */
  zeroXAddrs?: boolean;
}

const TYPES_TEXT = 'dn:NetworkVideoTransmitter tds:Device';

function envelope(headers: string, body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${WSD_NS.soap}" xmlns:wsa="${WSD_NS.wsa}" xmlns:d="${WSD_NS.d}" xmlns:dn="${WSD_NS.dn}" xmlns:tds="${WSD_NS.tds}">` +
    `<SOAP-ENV:Header>${headers}</SOAP-ENV:Header><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`
  );
}

function headers(action: string, to: string, o: BuildOptions, relatesTo?: string): string {
  return (
    `<wsa:MessageID>${escapeXml(o.messageId ?? `urn:uuid:${randomUUID()}`)}</wsa:MessageID>` +
    (relatesTo === undefined ? '' : `<wsa:RelatesTo>${escapeXml(relatesTo)}</wsa:RelatesTo>`) +
    `<wsa:To>${to}</wsa:To><wsa:Action>${action}</wsa:Action>` +
    `<d:AppSequence InstanceId="${o.appSequence.instanceId}" MessageNumber="${o.appSequence.messageNumber}"/>`
  );
}

function endpointReference(d: DiscoverableDevice): string {
  return `<wsa:EndpointReference><wsa:Address>${escapeXml(endpointAddress(d))}</wsa:Address></wsa:EndpointReference>`;
}

function metadata(d: DiscoverableDevice, o: BuildOptions): string {
  const xaddr = o.zeroXAddrs || d.zeroXAddrs ? zeroHost(d.xaddr) : d.xaddr;
  return (
    endpointReference(d) +
    `<d:Types>${TYPES_TEXT}</d:Types>` +
    `<d:Scopes>${escapeXml(deviceScopes(d).join(' '))}</d:Scopes>` +
    `<d:XAddrs>${escapeXml(xaddr)}</d:XAddrs>` +
    `<d:MetadataVersion>${d.metadataVersion ?? 1}</d:MetadataVersion>`
  );
}

/**
 * ProbeMatches for one camera (§5.3). One camera per message: that is what a camera on the wire
 * sends, and the `onvif` npm client reads exactly one ProbeMatch per datagram.
 */
export function buildProbeMatches(d: DiscoverableDevice, relatesTo: string, o: BuildOptions): string {
  return envelope(
    headers(WSD_ACTION.probeMatches, WSA_ANONYMOUS, o, relatesTo),
    `<d:ProbeMatches><d:ProbeMatch>${metadata(d, o)}</d:ProbeMatch></d:ProbeMatches>`,
  );
}

/** ResolveMatches (§6). */
export function buildResolveMatches(d: DiscoverableDevice, relatesTo: string, o: BuildOptions): string {
  return envelope(
    headers(WSD_ACTION.resolveMatches, WSA_ANONYMOUS, o, relatesTo),
    `<d:ResolveMatches><d:ResolveMatch>${metadata(d, o)}</d:ResolveMatch></d:ResolveMatches>`,
  );
}

/** Hello (§4.1), multicast when a camera joins the network. */
export function buildHello(d: DiscoverableDevice, o: BuildOptions): string {
  return envelope(headers(WSD_ACTION.hello, WSD_TO_MULTICAST, o), `<d:Hello>${metadata(d, o)}</d:Hello>`);
}

/** Bye (§4.2), multicast when a camera leaves; only the endpoint reference is required. */
export function buildBye(d: DiscoverableDevice, o: BuildOptions): string {
  return envelope(headers(WSD_ACTION.bye, WSD_TO_MULTICAST, o), `<d:Bye>${endpointReference(d)}</d:Bye>`);
}

/** A Probe as a client sends it; used by tests and by the simulator's own `probe` tooling. */
export function buildProbe(opts: { messageId: string; types?: string; scopes?: string[]; matchBy?: string }): string {
  const types = opts.types ?? 'dn:NetworkVideoTransmitter';
  const scopes = opts.scopes ?? [];
  const matchBy = opts.matchBy ? ` MatchBy="${escapeXml(opts.matchBy)}"` : '';
  return envelope(
    `<wsa:MessageID>${escapeXml(opts.messageId)}</wsa:MessageID><wsa:To>${WSD_TO_MULTICAST}</wsa:To><wsa:Action>${WSD_ACTION.probe}</wsa:Action>`,
    `<d:Probe>${types ? `<d:Types>${escapeXml(types)}</d:Types>` : ''}` +
      `<d:Scopes${matchBy}>${escapeXml(scopes.join(' '))}</d:Scopes></d:Probe>`,
  );
}

// ---- client side: what cameras send back ----------------------------------------------------

/** One target service as a ProbeMatch, ResolveMatch or Hello describes it (§4.1, §5.3, §6.3). */
export interface DiscoveredEndpoint {
  /** EndpointReference/Address, usually `urn:uuid:…`: the camera's identity across IP changes */
  endpoint: string;
  types: QName[];
  scopes: string[];
  /** transport addresses, in the order the camera gave them (may be empty in a Hello or ProbeMatch) */
  xaddrs: string[];
  metadataVersion: number | undefined;
}

export type DiscoveryReply =
  | { kind: 'probe-matches'; messageId: string; relatesTo: string; matches: DiscoveredEndpoint[] }
  | { kind: 'resolve-matches'; messageId: string; relatesTo: string; matches: DiscoveredEndpoint[] }
  | { kind: 'hello'; messageId: string; match: DiscoveredEndpoint }
  | { kind: 'bye'; messageId: string; endpoint: string };

export type DiscoveryReplyParseError = 'too-large' | 'dtd' | 'malformed' | 'not-soap' | 'not-a-reply' | 'no-relates-to' | 'no-endpoint' | 'too-many-items';

export type DiscoveryReplyParseResult = { ok: true; reply: DiscoveryReply } | { ok: false; error: DiscoveryReplyParseError };

/** Limits on what a discovery client accepts from the network. */
export interface DiscoveryReplyLimits {
  /** default 65536 (a UDP datagram cannot be larger) */
  maxBytes?: number;
  /** matches per ProbeMatches/ResolveMatches; default 16 (a camera sends one) */
  maxMatches?: number;
  /** types, scopes or XAddrs per match; default 64 */
  maxItems?: number;
  /** MessageID, RelatesTo, address, scope and XAddr length; default 2048 */
  maxTokenLength?: number;
}

function readEndpoint(el: XmlElement, maxItems: number, maxToken: number): DiscoveredEndpoint | DiscoveryReplyParseError {
  const endpoint = child(child(el, 'EndpointReference'), 'Address')?.text.trim() ?? '';
  if (endpoint === '' || endpoint.length > maxToken) return 'no-endpoint';
  const typesEl = child(el, 'Types');
  const typeTokens = splitList(typesEl?.text);
  const scopes = splitList(child(el, 'Scopes')?.text);
  const xaddrs = splitList(child(el, 'XAddrs')?.text);
  for (const list of [typeTokens, scopes, xaddrs]) {
    if (list.length > maxItems || list.some((t) => t.length > maxToken)) return 'too-many-items';
  }
  const version = Number(child(el, 'MetadataVersion')?.text.trim() ?? '');
  return {
    endpoint,
    types: typeTokens.map((t) => resolveQName(t, typesEl!.scope)),
    scopes,
    xaddrs,
    metadataVersion: Number.isSafeInteger(version) && version >= 0 && child(el, 'MetadataVersion') !== undefined ? version : undefined,
  };
}

/**
 * Parse one datagram a discovery client received: ProbeMatches, ResolveMatches, Hello or Bye
 * (2005/04). Never throws; anything else, malformed or over the limits is a typed error the
 * client ignores (and counts). Matching `RelatesTo` against the probe sent is the caller's job.
 */
export function parseDiscoveryReply(datagram: Uint8Array | string, limits: DiscoveryReplyLimits = {}): DiscoveryReplyParseResult {
  const maxMatches = limits.maxMatches ?? 16;
  const maxItems = limits.maxItems ?? 64;
  const maxToken = limits.maxTokenLength ?? 2048;
  const parsed = parseDatagram(datagram, limits.maxBytes ?? 65536);
  if (!parsed.ok) return parsed;
  const envelope = parsed.roots.find((r) => r.local === 'Envelope');
  const header = child(envelope, 'Header');
  const body = child(envelope, 'Body');
  if (!envelope || !body) return { ok: false, error: 'not-soap' };
  const message = body.children[0];
  if (!message || message.ns !== WSD_NS.d) return { ok: false, error: 'not-a-reply' };
  const messageId = child(header, 'MessageID')?.text.trim() ?? '';
  if (messageId.length > maxToken) return { ok: false, error: 'too-many-items' };
  switch (message.local) {
    case 'ProbeMatches':
    case 'ResolveMatches': {
      const relatesTo = child(header, 'RelatesTo')?.text.trim() ?? '';
      if (relatesTo === '' || relatesTo.length > maxToken) return { ok: false, error: 'no-relates-to' };
      const single = message.local === 'ProbeMatches' ? 'ProbeMatch' : 'ResolveMatch';
      const elements = message.children.filter((c) => c.local === single);
      if (elements.length > maxMatches) return { ok: false, error: 'too-many-items' };
      const matches: DiscoveredEndpoint[] = [];
      for (const el of elements) {
        const m = readEndpoint(el, maxItems, maxToken);
        if (typeof m === 'string') return { ok: false, error: m };
        matches.push(m);
      }
      return { ok: true, reply: { kind: message.local === 'ProbeMatches' ? 'probe-matches' : 'resolve-matches', messageId, relatesTo, matches } };
    }
    case 'Hello': {
      const m = readEndpoint(message, maxItems, maxToken);
      return typeof m === 'string' ? { ok: false, error: m } : { ok: true, reply: { kind: 'hello', messageId, match: m } };
    }
    case 'Bye': {
      const endpoint = child(child(message, 'EndpointReference'), 'Address')?.text.trim() ?? '';
      if (endpoint === '' || endpoint.length > maxToken) return { ok: false, error: 'no-endpoint' };
      return { ok: true, reply: { kind: 'bye', messageId, endpoint } };
    }
    default:
      return { ok: false, error: 'not-a-reply' };
  }
}

/** The value of one ONVIF scope (`onvif://www.onvif.org/<key>/<value>`), unescaped; undefined when absent. */
export function scopeValue(scopes: readonly string[], key: string): string | undefined {
  const prefix = `onvif://www.onvif.org/${key}/`;
  const hit = scopes.find((s) => s.toLowerCase().startsWith(prefix.toLowerCase()));
  return hit === undefined ? undefined : decodeSegment(hit.slice(prefix.length).replace(/\/+$/, ''));
}
