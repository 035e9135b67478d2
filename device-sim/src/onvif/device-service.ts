import { createHash } from 'node:crypto';
import { eventServiceCapabilities } from './event-service';
import { DEVICE_PATH, EVENTS_PATH, MEDIA_PATH, PTZ_PATH, serviceUrl, type ServiceContext } from './onvif-camera-model';
import { ptzServiceCapabilities } from './ptz-service';
import { escapeXml as x, faults, text, child, type SoapFault, type SoapRequest } from './soap-envelope';

/** Device management operations (ONVIF Core §8), keyed by local name. */
const operations: Record<string, (req: SoapRequest, ctx: ServiceContext) => string | SoapFault> = {
  GetSystemDateAndTime: (_req, ctx) => {
    const d = new Date(ctx.nowMs);
    const dateTime =
      `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
      `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>`;
    return (
      '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
      '<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
      '<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>' +
      `<tt:UTCDateTime>${dateTime}</tt:UTCDateTime><tt:LocalDateTime>${dateTime}</tt:LocalDateTime>` +
      '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
    );
  },

  GetDeviceInformation: (_req, { camera: c }) =>
    '<tds:GetDeviceInformationResponse>' +
    `<tds:Manufacturer>${x(c.manufacturer)}</tds:Manufacturer><tds:Model>${x(c.model)}</tds:Model>` +
    `<tds:FirmwareVersion>${x(c.firmware)}</tds:FirmwareVersion><tds:SerialNumber>${x(c.serial)}</tds:SerialNumber>` +
    `<tds:HardwareId>${x(c.hardwareId)}</tds:HardwareId>` +
    '</tds:GetDeviceInformationResponse>',

  GetCapabilities: (req, ctx) => {
    // Category is a list (ONVIF Core, GetCapabilities); absent means All. Imaging/Analytics are not
    // implemented (nor PTZ on a fixed camera), and the spec wants NoSuchService for those.
    const categories = collectTexts(req.body, 'Category');
    const wanted = new Set(categories.length === 0 ? ['All'] : categories);
    const all = wanted.has('All');
    const served = new Set(['All', 'Device', 'Media', 'Events', ...(ctx.camera.ptz === true ? ['PTZ'] : [])]);
    for (const c of wanted) if (!served.has(c)) return faults.noSuchService();
    const device = all || wanted.has('Device')
      ? `<tt:Device><tt:XAddr>${x(serviceUrl(ctx, DEVICE_PATH))}</tt:XAddr>` +
        '<tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration><tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>' +
        '<tt:System><tt:DiscoveryResolve>true</tt:DiscoveryResolve><tt:DiscoveryBye>true</tt:DiscoveryBye><tt:RemoteDiscovery>false</tt:RemoteDiscovery>' +
        '<tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>' +
        '<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>' +
        '<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2><tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration>' +
        '<tt:AccessPolicyConfig>false</tt:AccessPolicyConfig><tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken>' +
        '<tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken></tt:Security></tt:Device>'
      : '';
    const media = all || wanted.has('Media')
      ? `<tt:Media><tt:XAddr>${x(serviceUrl(ctx, MEDIA_PATH))}</tt:XAddr>` +
        '<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>'
      : '';
    const events = all || wanted.has('Events')
      ? `<tt:Events><tt:XAddr>${x(serviceUrl(ctx, EVENTS_PATH))}</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
        '<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>'
      : '';
    const ptz = ctx.camera.ptz === true && (all || wanted.has('PTZ')) ? `<tt:PTZ><tt:XAddr>${x(serviceUrl(ctx, PTZ_PATH))}</tt:XAddr></tt:PTZ>` : '';
    // Schema order of tt:Capabilities: Analytics, Device, Events, Imaging, Media, PTZ.
    return `<tds:GetCapabilitiesResponse><tds:Capabilities>${device}${events}${media}${ptz}</tds:Capabilities></tds:GetCapabilitiesResponse>`;
  },

  GetServices: (req, ctx) => {
    const withCaps = text(child(req.body, 'IncludeCapability')).toLowerCase() === 'true';
    // Only Media (ver10) is listed: advertising ver20 would make clients switch to Media2.
    const service = (ns: string, path: string, caps: string, major: number, minor: number): string =>
      `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${x(serviceUrl(ctx, path))}</tds:XAddr>` +
      (withCaps ? `<tds:Capabilities>${caps}</tds:Capabilities>` : '') +
      `<tds:Version><tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
    return (
      '<tds:GetServicesResponse>' +
      service('http://www.onvif.org/ver10/device/wsdl', DEVICE_PATH, deviceServiceCapabilities(ctx), 2, 60) +
      service('http://www.onvif.org/ver10/media/wsdl', MEDIA_PATH, mediaServiceCapabilities(ctx), 2, 60) +
      service('http://www.onvif.org/ver10/events/wsdl', EVENTS_PATH, eventServiceCapabilities(ctx.maxPullPoints ?? 10), 2, 60) +
      (ctx.camera.ptz === true ? service('http://www.onvif.org/ver20/ptz/wsdl', PTZ_PATH, ptzServiceCapabilities(), 2, 60) : '') +
      '</tds:GetServicesResponse>'
    );
  },

  GetServiceCapabilities: (_req, ctx) =>
    `<tds:GetServiceCapabilitiesResponse>${deviceServiceCapabilities(ctx)}</tds:GetServiceCapabilitiesResponse>`,

  GetScopes: (_req, { camera: c }) => {
    const scopes = [
      `onvif://www.onvif.org/name/${encodeURIComponent(c.name)}`,
      `onvif://www.onvif.org/hardware/${encodeURIComponent(c.hardwareId)}`,
      `onvif://www.onvif.org/location/${encodeURIComponent(c.school)}`,
      'onvif://www.onvif.org/type/video_encoder',
      'onvif://www.onvif.org/Profile/Streaming',
    ];
    return (
      '<tds:GetScopesResponse>' +
      scopes.map((s) => `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${x(s)}</tt:ScopeItem></tds:Scopes>`).join('') +
      '</tds:GetScopesResponse>'
    );
  },

  GetHostname: (_req, { camera }) =>
    '<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP>' +
    `<tt:Name>${x(hostname(camera.serial))}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`,

  GetNetworkInterfaces: (_req, ctx) => {
    const ipv4 = ctx.host.includes(':') ? '0.0.0.0' : ctx.host;
    return (
      '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0"><tt:Enabled>true</tt:Enabled>' +
      `<tt:Info><tt:Name>eth0</tt:Name><tt:HwAddress>${macFor(ctx.camera.serial)}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>` +
      '<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config>' +
      `<tt:Manual><tt:Address>${x(ipv4)}</tt:Address><tt:PrefixLength>24</tt:PrefixLength></tt:Manual>` +
      '<tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4></tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>'
    );
  },
};

/** Operations in the PRE_AUTH access class (ONVIF Core §5.12): callable before authenticating. */
export const DEVICE_UNAUTHENTICATED = new Set(['GetSystemDateAndTime']);

export function handleDeviceOperation(req: SoapRequest, ctx: ServiceContext): string | SoapFault | undefined {
  return Object.hasOwn(operations, req.operation) ? operations[req.operation]?.(req, ctx) : undefined;
}

function deviceServiceCapabilities(ctx: ServiceContext): string {
  const schemes = ctx.camera.authSchemes ?? 'any';
  return (
    '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false"/>' +
    `<tds:Security UsernameToken="${schemes !== 'http-digest'}" HttpDigest="${schemes !== 'ws-security'}" TLS1.2="false"/>` +
    '<tds:System DiscoveryResolve="true" DiscoveryBye="true" RemoteDiscovery="false" SystemBackup="false" SystemLogging="false" FirmwareUpgrade="false"/>' +
    '</tds:Capabilities>'
  );
}

/** Media service capabilities element (ONVIF Media 5.1), shared with the media service. */
export function mediaServiceCapabilities(ctx: ServiceContext): string {
  const profiles = ctx.camera.profiles.length;
  return (
    `<trt:Capabilities SnapshotUri="true" Rotation="false" VideoSourceMode="false" OSD="false">` +
    `<trt:ProfileCapabilities MaximumNumberOfProfiles="${profiles}"/>` +
    '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true" NonAggregateControl="false"/>' +
    '</trt:Capabilities>'
  );
}

function collectTexts(node: unknown, localName: string): string[] {
  if (typeof node !== 'object' || node === null || !Object.hasOwn(node, localName)) return [];
  const v = (node as Record<string, unknown>)[localName];
  const items = Array.isArray(v) ? v : [v];
  return items.flatMap((i) => (typeof i === 'string' ? i.split(/\s+/).filter(Boolean) : []));
}

function hostname(serial: string): string {
  const slug = serial.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return `cam-${slug || 'sim'}`.slice(0, 63);
}

/** A stable locally administered MAC derived from the serial (bit 1 of the first octet set). */
function macFor(serial: string): string {
  const h = createHash('sha1').update(serial).digest();
  h[0] = ((h[0] ?? 0) & 0xfc) | 0x02;
  return [...h.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
