import { mediaServiceCapabilities } from './device-service';
import type { OnvifProfileInfo, ServiceContext } from './onvif-camera-model';
import { ptzConfigurationXml } from './ptz-service';
import { escapeXml as x, faults, path, text, child, type SoapFault, type SoapRequest } from './soap-envelope';

/**
 * The simulated camera has one video source; its size is the largest profile's, and every profile
 * shares one video source configuration (like most fixed cameras).
 */
export const VIDEO_SOURCE = 'vs0';
export const VIDEO_SOURCE_CONFIG = 'vsc0';

type Handler = (req: SoapRequest, ctx: ServiceContext) => string | SoapFault;

/** Media operations (ONVIF Media Service Specification, ver10), keyed by local name. */
const operations: Record<string, Handler> = {
  GetServiceCapabilities: (_req, ctx) =>
    `<trt:GetServiceCapabilitiesResponse>${mediaServiceCapabilities(ctx)}</trt:GetServiceCapabilitiesResponse>`,

  GetProfiles: (_req, ctx) =>
    `<trt:GetProfilesResponse>${ctx.camera.profiles.map((p) => profileXml('trt:Profiles', p, ctx)).join('')}</trt:GetProfilesResponse>`,

  GetProfile: (req, ctx) =>
    withProfile(req, ctx, (p) => `<trt:GetProfileResponse>${profileXml('trt:Profile', p, ctx)}</trt:GetProfileResponse>`),

  GetVideoSources: (_req, ctx) => {
    const { width, height, fps } = sourceMode(ctx);
    return (
      `<trt:GetVideoSourcesResponse><trt:VideoSources token="${VIDEO_SOURCE}">` +
      `<tt:Framerate>${x(fps)}</tt:Framerate><tt:Resolution><tt:Width>${x(width)}</tt:Width><tt:Height>${x(height)}</tt:Height></tt:Resolution>` +
      '</trt:VideoSources></trt:GetVideoSourcesResponse>'
    );
  },

  GetVideoSourceConfigurations: (_req, ctx) =>
    `<trt:GetVideoSourceConfigurationsResponse>${videoSourceConfigXml('trt:Configurations', ctx)}</trt:GetVideoSourceConfigurationsResponse>`,

  GetVideoEncoderConfigurations: (_req, ctx) =>
    '<trt:GetVideoEncoderConfigurationsResponse>' +
    ctx.camera.profiles.map((p) => videoEncoderConfigXml('trt:Configurations', p)).join('') +
    '</trt:GetVideoEncoderConfigurationsResponse>',

  GetVideoEncoderConfiguration: (req, ctx) => {
    const token = text(child(req.body, 'ConfigurationToken'));
    const profile = ctx.camera.profiles.find((p) => encoderToken(p) === token);
    return profile === undefined
      ? faults.invalidArgVal('The requested configuration does not exist', 'ter:NoConfig')
      : `<trt:GetVideoEncoderConfigurationResponse>${videoEncoderConfigXml('trt:Configuration', profile)}</trt:GetVideoEncoderConfigurationResponse>`;
  },

  GetStreamUri: (req, ctx) => {
    // GetStreamUri: RTP-Unicast over RTSP (UDP, TCP or RTSP-interleaved). No multicast, no HTTP tunnelling.
    const stream = text(path(req.body, 'StreamSetup', 'Stream'));
    const protocol = text(path(req.body, 'StreamSetup', 'Transport', 'Protocol'));
    if (stream !== '' && stream !== 'RTP-Unicast') return faults.invalidStreamSetup();
    if (protocol !== '' && !['RTSP', 'UDP', 'TCP'].includes(protocol)) return faults.invalidStreamSetup();
    return withProfile(req, ctx, (p) => `<trt:GetStreamUriResponse>${mediaUriXml(p.rtspUri)}</trt:GetStreamUriResponse>`);
  },

  GetSnapshotUri: (req, ctx) =>
    withProfile(req, ctx, (p) => `<trt:GetSnapshotUriResponse>${mediaUriXml(p.snapshotUri)}</trt:GetSnapshotUriResponse>`),

  SetSynchronizationPoint: (req, ctx) =>
    withProfile(req, ctx, (p) => {
      ctx.camera.onSynchronizationPoint(p.token);
      return '<trt:SetSynchronizationPointResponse/>';
    }),
};

export function handleMediaOperation(req: SoapRequest, ctx: ServiceContext): string | SoapFault | undefined {
  return Object.hasOwn(operations, req.operation) ? operations[req.operation]?.(req, ctx) : undefined;
}

function withProfile(req: SoapRequest, ctx: ServiceContext, fn: (p: OnvifProfileInfo) => string): string | SoapFault {
  const token = text(child(req.body, 'ProfileToken'));
  const profile = ctx.camera.profiles.find((p) => p.token === token);
  return profile === undefined ? faults.noProfile() : fn(profile);
}

function sourceMode(ctx: ServiceContext): { width: number; height: number; fps: number } {
  let best = { width: 0, height: 0, fps: 0 };
  for (const p of ctx.camera.profiles) {
    if (p.width * p.height > best.width * best.height) best = { width: p.width, height: p.height, fps: best.fps };
    best.fps = Math.max(best.fps, p.fps);
  }
  return best;
}

function videoSourceConfigXml(tag: string, ctx: ServiceContext): string {
  const { width, height } = sourceMode(ctx);
  return (
    `<${tag} token="${VIDEO_SOURCE_CONFIG}"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>${ctx.camera.profiles.length}</tt:UseCount>` +
    `<tt:SourceToken>${VIDEO_SOURCE}</tt:SourceToken><tt:Bounds x="0" y="0" width="${x(width)}" height="${x(height)}"/></${tag}>`
  );
}

function videoEncoderConfigXml(tag: string, p: OnvifProfileInfo): string {
  const fps = Math.max(1, Math.round(p.fps));
  return (
    `<${tag} token="${x(encoderToken(p))}"><tt:Name>${x(p.name)}</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:Encoding>${x(p.encoding)}</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${x(p.width)}</tt:Width><tt:Height>${x(p.height)}</tt:Height></tt:Resolution>` +
    '<tt:Quality>5</tt:Quality>' +
    `<tt:RateControl><tt:FrameRateLimit>${x(fps)}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
    `<tt:BitrateLimit>${x(Math.round(p.bitrateKbps ?? 1024))}</tt:BitrateLimit></tt:RateControl>` +
    // GOP of 2 s: SetSynchronizationPoint is how a viewer gets an IDR sooner.
    `<tt:H264><tt:GovLength>${x(fps * 2)}</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>` +
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>' +
    '<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    `<tt:SessionTimeout>PT60S</tt:SessionTimeout></${tag}>`
  );
}

function profileXml(tag: string, p: OnvifProfileInfo, ctx: ServiceContext): string {
  return (
    `<${tag} token="${x(p.token)}" fixed="true"><tt:Name>${x(p.name)}</tt:Name>` +
    videoSourceConfigXml('tt:VideoSourceConfiguration', ctx) +
    videoEncoderConfigXml('tt:VideoEncoderConfiguration', p) +
    (ctx.camera.ptz === true ? ptzConfigurationXml('tt:PTZConfiguration', ctx.camera.profiles.length) : '') +
    `</${tag}>`
  );
}

function encoderToken(p: OnvifProfileInfo): string {
  return `vec-${p.token}`;
}

function mediaUriXml(uri: string): string {
  return (
    `<trt:MediaUri><tt:Uri>${x(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    '<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>'
  );
}
