/**
 * Store and forward across a SIGKILL: the gateway runs as its own process (`npm run gateway --
 * --config file`), hears motion on a simulated camera and sends the events to a link peer that
 * never acks them. The gateway is killed with SIGKILL — no shutdown code runs — and started again
 * on the same data folder: the unacked events are sent again with the same ids and seqs, and new
 * events continue the sequence.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../device-sim/src/fleet';
import { generatedFleet } from '../../device-sim/src/fleet-config';
import { LinkPeer } from '../support/link-peer';
import { GATEWAY_ID, GATEWAY_SECRET, onvifEntry, simControl } from '../support/gateway-kit';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let fleet: Fleet;
let peer: LinkPeer;
let dir: string;
let gateway: ChildProcess | undefined;
let configFile: string;

function startGateway(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/cli.ts', '--config', configFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.resume();
  return child;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'schoolcam-sigkill-'));
  fleet = await Fleet.create({ spec: generatedFleet(1, 1), discoveryInterface: 'none', logger: pino({ level: 'silent' }) });
  peer = await LinkPeer.start({ gatewayId: GATEWAY_ID, secret: GATEWAY_SECRET, ack: false });
  const cam = fleet.info().cameras[0];
  configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    [
      `gatewayId: ${GATEWAY_ID}`,
      `schoolId: ${cam.school}`,
      `centerUrl: ${peer.url}`,
      `secret: ${GATEWAY_SECRET}`,
      'dataDir: state',
      'logLevel: warn',
      'cameras:',
      `  - ${JSON.stringify(onvifEntry(cam))}`,
    ].join('\n'),
    { mode: 0o600 },
  );
});

afterAll(async () => {
  if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
    await new Promise<void>((r) => {
      gateway!.once('exit', () => r());
      gateway!.kill('SIGTERM');
    });
  }
  await peer?.close();
  await fleet?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway killed with events pending', () => {
  it('sends its unacked events again after a restart, same ids and seqs, and new ones after them', async () => {
    const cam = fleet.info().cameras[0];
    const sim = fleet.cameras[0];
    gateway = startGateway();
    await peer.waitFor(() => peer.of('hello').length === 1, 'the gateway process to connect', 30_000);
    await peer.waitFor(() => sim.onvif.faultState().subscriptions > 0, 'its event subscription', 15_000);
    for (const state of [true, false, true]) {
      await simControl(cam.control, 'events/motion', { state });
      await new Promise((r) => setTimeout(r, 200));
    }
    await peer.waitFor(() => peer.events.length === 3, 'three motion events');
    const before = peer.events.map((e) => ({ id: e.id, seq: e.seq, active: e.active }));

    gateway.kill('SIGKILL');
    await new Promise<void>((r) => gateway!.once('exit', () => r()));
    expect(gateway.signalCode).toBe('SIGKILL');

    peer.ack = true;
    gateway = startGateway();
    await peer.waitFor(() => peer.of('hello').length === 2, 'the restarted gateway to connect', 30_000);
    await peer.waitFor(() => peer.duplicates === 3, 'the three unacked events again', 15_000);
    // Sent again unchanged: the peer stored the first copies, the second copies carry the same ids and seqs.
    const resent = peer.of('events').slice(-1)[0].events.map((e) => ({ id: e.id, seq: e.seq, active: e.active }));
    expect(resent).toEqual(before);

    await peer.waitFor(() => sim.onvif.faultState().subscriptions > 0 && peer.of('health').length > 0, 'the event subscription after the restart', 15_000);
    await simControl(cam.control, 'events/motion', { state: false });
    await peer.waitFor(() => peer.events.length === 4, 'a new event after the restart');
    expect(peer.events[3].seq).toBeGreaterThan(Math.max(...before.map((e) => e.seq)));
    expect(peer.events[3].active).toBe(false);
  });
});
