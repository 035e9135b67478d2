import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { SimCameraInfo } from '../../device-sim/src/camera/sim-camera';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { resolveGatewayConfig, type CameraConfig } from '../../gateway/src/config';
import { Gateway, type GatewayOptions } from '../../gateway/src/gateway';
import { LinkPeer } from './link-peer';

export const GATEWAY_ID = 'gw-test';
export const GATEWAY_SECRET = 'test-gateway-secret';

/** POSTs (or DELETEs) to the simulator's control API, as a test operator would; fails on a non-2xx reply. */
export async function simControl(control: string, path: string, body: unknown = {}, method = 'POST'): Promise<Record<string, unknown>> {
  const res = await fetch(`${control}/${path}`, { method, body: method === 'POST' ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The sim camera as the gateway's YAML `cameras:` would hold it (ONVIF). */
export function onvifEntry(c: SimCameraInfo, extra: Partial<CameraConfig> = {}): CameraConfig {
  return { id: c.id, name: c.name, onvif: { xaddr: c.onvif, username: c.username, password: c.password }, ...extra };
}

export interface GatewayKit {
  fleet: Fleet;
  peer: LinkPeer;
  gateway: Gateway;
  dataDir: string;
  cameras: SimCameraInfo[];
  /** Restarts the gateway on the same data folder (a process restart). */
  restartGateway(): Promise<Gateway>;
  close(): Promise<void>;
}

/**
 * A simulated fleet, a gateway in this process, and a test-only link peer standing in for the
 * centre. `cameras` maps the sim cameras to the gateway's YAML entries (ONVIF by default).
 */
export async function startGatewayKit(
  opts: { cameras?: number; fleet?: Parameters<typeof generatedFleet>[2]; entries?: (sims: SimCameraInfo[]) => CameraConfig[]; gateway?: GatewayOptions; lingerMs?: number; ack?: boolean } = {},
): Promise<GatewayKit> {
  const logger = pino({ level: process.env.SCHOOLCAM_TEST_LOG ?? 'silent' });
  const dataDir = mkdtempSync(join(tmpdir(), 'schoolcam-gw-'));
  const fleet = await Fleet.create({ spec: generatedFleet(opts.cameras ?? 1, 1, opts.fleet), discoveryInterface: 'none', logger });
  const sims = fleet.info().cameras;
  const peer = await LinkPeer.start({ gatewayId: GATEWAY_ID, secret: GATEWAY_SECRET, ack: opts.ack });
  const config = resolveGatewayConfig({
    gatewayId: GATEWAY_ID,
    schoolId: sims[0].school,
    centerUrl: peer.url,
    secret: GATEWAY_SECRET,
    dataDir,
    loopbackOnly: true,
    lingerMs: opts.lingerMs ?? 200,
    cameras: (opts.entries ?? ((s) => s.map((c) => onvifEntry(c))))(sims),
  });
  const create = (): Promise<Gateway> => Gateway.create(config, { logger, link: { minBackoffMs: 100, maxBackoffMs: 1000 }, ...opts.gateway });
  const kit: GatewayKit = {
    fleet,
    peer,
    gateway: await create(),
    dataDir,
    cameras: sims,
    restartGateway: async () => {
      await kit.gateway.close();
      kit.gateway = await create();
      return kit.gateway;
    },
    close: async () => {
      await kit.gateway.close();
      await kit.peer.close();
      await fleet.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await peer.waitFor(() => peer.of('hello').length > 0, 'the gateway to say hello');
  return kit;
}
