import { parseDuration } from './iso-duration';
import type { ServiceContext } from './onvif-camera-model';
import type { PtzHead, PtzVector } from './ptz-head';
import { attr, child, escapeXml as x, faults, text, type SoapFault, type SoapRequest, type XmlNode } from './soap-envelope';

/** The one PTZ node and configuration of a simulated PTZ camera, shared by every profile. */
export const PTZ_NODE_TOKEN = 'ptz0';
export const PTZ_CONFIG_TOKEN = 'ptzc0';
/** ContinuousMove without a Timeout stops after the configuration's DefaultPTZTimeout. */
export const DEFAULT_PTZ_TIMEOUT_MS = 10_000;
/** Longest ContinuousMove Timeout accepted (PTZConfigurationOptions PTZTimeout max). */
const MAX_PTZ_TIMEOUT_MS = 60_000;

const SPACE = {
  absPanTilt: 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace',
  absZoom: 'http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace',
  velPanTilt: 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace',
  velZoom: 'http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace',
  speedPanTilt: 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/GenericSpeedSpace',
  speedZoom: 'http://www.onvif.org/ver10/tptz/ZoomSpaces/ZoomGenericSpeedSpace',
} as const;

type Handler = (req: SoapRequest, ctx: ServiceContext, head: PtzHead) => string | SoapFault;

const noToken = (): SoapFault => faults.invalidArgVal('No such preset', 'ter:NoToken');
const noProfile = faults.noProfile;

/** PTZ operations (ONVIF PTZ Service Specification, ver20), keyed by local name. */
const operations: Record<string, Handler> = {
  GetServiceCapabilities: () =>
    `<tptz:GetServiceCapabilitiesResponse>${ptzServiceCapabilities()}</tptz:GetServiceCapabilitiesResponse>`,

  GetNodes: (_req, _ctx, head) => `<tptz:GetNodesResponse>${nodeXml('tptz:PTZNode', head)}</tptz:GetNodesResponse>`,

  GetNode: (req, _ctx, head) =>
    text(child(req.body, 'NodeToken')) === PTZ_NODE_TOKEN
      ? `<tptz:GetNodeResponse>${nodeXml('tptz:PTZNode', head)}</tptz:GetNodeResponse>`
      : faults.invalidArgVal('No such PTZ node', 'ter:NoEntity'),

  GetConfigurations: (_req, ctx) =>
    `<tptz:GetConfigurationsResponse>${ptzConfigurationXml('tptz:PTZConfiguration', ctx.camera.profiles.length)}</tptz:GetConfigurationsResponse>`,

  GetConfiguration: (req, ctx) =>
    text(child(req.body, 'PTZConfigurationToken')) === PTZ_CONFIG_TOKEN
      ? `<tptz:GetConfigurationResponse>${ptzConfigurationXml('tptz:PTZConfiguration', ctx.camera.profiles.length)}</tptz:GetConfigurationResponse>`
      : faults.invalidArgVal('No such PTZ configuration', 'ter:NoConfig'),

  GetStatus: (req, ctx, head) =>
    withProfile(req, ctx, () => {
      const s = head.status();
      const state = (moving: boolean): string => (moving ? 'MOVING' : 'IDLE');
      return (
        '<tptz:GetStatusResponse><tptz:PTZStatus>' +
        `<tt:Position>${vectorXml(s.position)}</tt:Position>` +
        `<tt:MoveStatus><tt:PanTilt>${state(s.moving.panTilt)}</tt:PanTilt><tt:Zoom>${state(s.moving.zoom)}</tt:Zoom></tt:MoveStatus>` +
        `<tt:UtcTime>${new Date(ctx.nowMs).toISOString()}</tt:UtcTime>` +
        '</tptz:PTZStatus></tptz:GetStatusResponse>'
      );
    }),

  ContinuousMove: (req, ctx, head) =>
    withProfile(req, ctx, () => {
      const velocity = readVector(child(req.body, 'Velocity'));
      if (velocity === undefined) return faults.invalidArgVal('Invalid velocity');
      const timeoutText = text(child(req.body, 'Timeout'));
      let timeoutMs = DEFAULT_PTZ_TIMEOUT_MS;
      if (timeoutText !== '') {
        const d = parseDuration(timeoutText, MAX_PTZ_TIMEOUT_MS);
        if (!d.ok) return faults.invalidArgVal('Invalid timeout', 'ter:TimeoutNotSupported');
        timeoutMs = d.ms;
      }
      head.continuousMove(velocity, timeoutMs);
      return '<tptz:ContinuousMoveResponse/>';
    }),

  AbsoluteMove: (req, ctx, head) =>
    withProfile(req, ctx, () => {
      const position = readVector(child(req.body, 'Position'));
      if (position === undefined) return faults.invalidArgVal('Invalid position', 'ter:InvalidPosition');
      head.moveTo(position);
      return '<tptz:AbsoluteMoveResponse/>';
    }),

  Stop: (req, ctx, head) =>
    withProfile(req, ctx, () => {
      // Both default to true (PTZ §5.3.5): a bare Stop halts everything.
      const flag = (name: string): boolean => text(child(req.body, name)).toLowerCase() !== 'false';
      head.stop(flag('PanTilt'), flag('Zoom'));
      return '<tptz:StopResponse/>';
    }),

  GetPresets: (req, ctx, head) =>
    withProfile(req, ctx, () =>
      '<tptz:GetPresetsResponse>' +
      head.status().presets.map((p) =>
        `<tptz:Preset token="${x(p.token)}"><tt:Name>${x(p.name)}</tt:Name><tt:PTZPosition>${vectorXml(p.position)}</tt:PTZPosition></tptz:Preset>`,
      ).join('') +
      '</tptz:GetPresetsResponse>'),

  SetPreset: (req, ctx, head) =>
    withProfile(req, ctx, () => {
      const nameNode = child(req.body, 'PresetName');
      const tokenNode = child(req.body, 'PresetToken');
      const result = head.setPreset(nameNode === undefined ? undefined : text(nameNode), tokenNode === undefined ? undefined : text(tokenNode));
      if (result.ok) return `<tptz:SetPresetResponse><tptz:PresetToken>${x(result.token)}</tptz:PresetToken></tptz:SetPresetResponse>`;
      switch (result.error) {
        case 'no-token':
          return noToken();
        case 'name-exists':
          return faults.invalidArgVal('Preset name already exists', 'ter:PresetExist');
        case 'bad-name':
          return faults.invalidArgVal('Invalid preset name', 'ter:InvalidPresetName');
        case 'too-many':
          return { code: 'env:Receiver', subcodes: ['ter:Action', 'ter:TooManyPresets'], reason: 'Maximum number of presets reached', status: 500 };
        default:
          throw new Error(`unreachable ${JSON.stringify(result.error satisfies never)}`);
      }
    }),

  GotoPreset: (req, ctx, head) =>
    withProfile(req, ctx, () => (head.gotoPreset(text(child(req.body, 'PresetToken'))) ? '<tptz:GotoPresetResponse/>' : noToken())),

  RemovePreset: (req, ctx, head) =>
    withProfile(req, ctx, () => (head.removePreset(text(child(req.body, 'PresetToken'))) ? '<tptz:RemovePresetResponse/>' : noToken())),
};

/** Dispatch a PTZ operation; undefined when it is not one we implement. */
export function handlePtzOperation(req: SoapRequest, ctx: ServiceContext, head: PtzHead): string | SoapFault | undefined {
  return Object.hasOwn(operations, req.operation) ? operations[req.operation]?.(req, ctx, head) : undefined;
}

export function ptzServiceCapabilities(): string {
  return '<tptz:Capabilities EFlip="false" Reverse="false" GetCompatibleConfigurations="false" MoveStatus="true" StatusPosition="true"/>';
}

/** tt:PTZConfiguration, also embedded in every media profile of a PTZ camera. */
export function ptzConfigurationXml(tag: string, useCount: number): string {
  return (
    `<${tag} token="${PTZ_CONFIG_TOKEN}"><tt:Name>PTZConfig</tt:Name><tt:UseCount>${useCount}</tt:UseCount>` +
    `<tt:NodeToken>${PTZ_NODE_TOKEN}</tt:NodeToken>` +
    // "Pant" is the schema's own spelling (onvif.xsd, PTZConfiguration).
    `<tt:DefaultAbsolutePantTiltPositionSpace>${SPACE.absPanTilt}</tt:DefaultAbsolutePantTiltPositionSpace>` +
    `<tt:DefaultAbsoluteZoomPositionSpace>${SPACE.absZoom}</tt:DefaultAbsoluteZoomPositionSpace>` +
    `<tt:DefaultContinuousPanTiltVelocitySpace>${SPACE.velPanTilt}</tt:DefaultContinuousPanTiltVelocitySpace>` +
    `<tt:DefaultContinuousZoomVelocitySpace>${SPACE.velZoom}</tt:DefaultContinuousZoomVelocitySpace>` +
    `<tt:DefaultPTZSpeed><tt:PanTilt x="1" y="1" space="${SPACE.speedPanTilt}"/><tt:Zoom x="1" space="${SPACE.speedZoom}"/></tt:DefaultPTZSpeed>` +
    `<tt:DefaultPTZTimeout>PT${DEFAULT_PTZ_TIMEOUT_MS / 1000}S</tt:DefaultPTZTimeout>` +
    `<tt:PanTiltLimits><tt:Range><tt:URI>${SPACE.absPanTilt}</tt:URI>${range('X', -1, 1)}${range('Y', -1, 1)}</tt:Range></tt:PanTiltLimits>` +
    `<tt:ZoomLimits><tt:Range><tt:URI>${SPACE.absZoom}</tt:URI>${range('X', 0, 1)}</tt:Range></tt:ZoomLimits>` +
    `</${tag}>`
  );
}

function nodeXml(tag: string, head: PtzHead): string {
  const space = (name: string, uri: string, axes: string): string => `<tt:${name}><tt:URI>${uri}</tt:URI>${axes}</tt:${name}>`;
  return (
    `<${tag} token="${PTZ_NODE_TOKEN}" FixedHomePosition="false"><tt:Name>PTZ</tt:Name><tt:SupportedPTZSpaces>` +
    space('AbsolutePanTiltPositionSpace', SPACE.absPanTilt, range('X', -1, 1) + range('Y', -1, 1)) +
    space('AbsoluteZoomPositionSpace', SPACE.absZoom, range('X', 0, 1)) +
    space('ContinuousPanTiltVelocitySpace', SPACE.velPanTilt, range('X', -1, 1) + range('Y', -1, 1)) +
    space('ContinuousZoomVelocitySpace', SPACE.velZoom, range('X', -1, 1)) +
    space('PanTiltSpeedSpace', SPACE.speedPanTilt, range('X', 0, 1)) +
    space('ZoomSpeedSpace', SPACE.speedZoom, range('X', 0, 1)) +
    `</tt:SupportedPTZSpaces><tt:MaximumNumberOfPresets>${head.maxPresets}</tt:MaximumNumberOfPresets>` +
    `<tt:HomeSupported>false</tt:HomeSupported></${tag}>`
  );
}

function range(axis: 'X' | 'Y', min: number, max: number): string {
  return `<tt:${axis}Range><tt:Min>${min}</tt:Min><tt:Max>${max}</tt:Max></tt:${axis}Range>`;
}

function vectorXml(v: PtzVector): string {
  return `<tt:PanTilt x="${v.pan}" y="${v.tilt}" space="${SPACE.absPanTilt}"/><tt:Zoom x="${v.zoom}" space="${SPACE.absZoom}"/>`;
}

/** `<PanTilt x y/>` and `<Zoom x/>` (tt:PTZVector / tt:PTZSpeed); undefined when a number is bad. */
function readVector(node: XmlNode | undefined): Partial<PtzVector> | undefined {
  if (node === undefined) return {};
  const out: Partial<PtzVector> = {};
  const panTilt = child(node, 'PanTilt');
  if (panTilt !== undefined) {
    const pan = num(attr(panTilt, 'x'));
    const tilt = num(attr(panTilt, 'y'));
    if (pan === null || tilt === null) return undefined;
    if (pan !== undefined) out.pan = pan;
    if (tilt !== undefined) out.tilt = tilt;
  }
  const zoom = child(node, 'Zoom');
  if (zoom !== undefined) {
    const z = num(attr(zoom, 'x'));
    if (z === null) return undefined;
    if (z !== undefined) out.zoom = z;
  }
  return out;
}

/** undefined: absent; null: present but not a finite number. */
function num(s: string | undefined): number | undefined | null {
  if (s === undefined) return undefined;
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?\s*$/.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

function withProfile(req: SoapRequest, ctx: ServiceContext, fn: () => string | SoapFault): string | SoapFault {
  const token = text(child(req.body, 'ProfileToken'));
  return ctx.camera.profiles.some((p) => p.token === token) ? fn() : noProfile();
}
