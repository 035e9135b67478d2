import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import type { SimCameraInfo } from '../camera/sim-camera';
import { ControlApi, type ControlTarget } from '../control/control-api';
import type { EventName, FaultName } from '../control/fault-params';
import { Fleet, scheduleActions } from '../fleet';
import type { CameraSpec, FleetSpec } from '../fleet-config';
import { NetnsLan, assertNetnsSupport, removeStaleNamespaces } from './netns-lan';

/**
 * Namespace mode (`npm run sim -- --netns`, root only): a private LAN of network namespaces
 * with one host per school, each camera on its own address, answering WS-Discovery by
 * multicast on that LAN only — never on the machine's real interface. A `client` host on the
 * same LAN is where a gateway or a discovery client runs (`ip netns exec <ns> …`).
 *
 * Node cannot enter a namespace itself, so each school is a child process started inside its
 * namespace; the control API stays in this process, on loopback, and reaches the cameras over
 * the children's IPC channels.
 */
const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const CHILD_ENV = 'SCHOOLCAM_SIM_NETNS_CHILD';

type Request = { id: number; camera: string; op: 'state' | 'fault' | 'event' | 'clear'; name?: string; params?: unknown };
type ReplyBody = { ok: true; result?: unknown } | { ok: false; error: string; range?: boolean };
type Reply = { id: number } & ReplyBody;
type ChildMessage = { type: 'ready'; cameras: SimCameraInfo[] } | ({ type: 'reply' } & Reply);

export interface NetnsFleet {
  cameras: SimCameraInfo[];
  controlUrl: string;
  /** Namespace of the LAN's client host and of each school. */
  netns: { client: string; clientAddress: string; schools: Record<string, string> };
  close(): Promise<void>;
}

export async function startNetnsFleet(spec: FleetSpec, opts: { logLevel: string; logger: Logger }): Promise<NetnsFleet> {
  await assertNetnsSupport();
  await removeStaleNamespaces();
  const bySchool = new Map<string, CameraSpec[]>();
  for (const c of spec.cameras) bySchool.set(c.school, [...(bySchool.get(c.school) ?? []), c]);
  const lan = await NetnsLan.create({ hosts: [...[...bySchool].map(([school, cams]) => ({ name: school, addresses: cams.length })), { name: 'client' }] });
  const targets = new Map<string, ControlTarget>();
  let control: ControlApi | undefined;
  try {
    const client = lan.host('client');
    const netns: NetnsFleet['netns'] = { client: client.ns, clientAddress: client.addresses[0], schools: Object.fromEntries([...bySchool.keys()].map((s) => [s, lan.host(s).ns])) };
    control = await ControlApi.create(() => targets, '127.0.0.1', opts.logger.child({ module: 'sim:control' }), () => ({ netns }));
    const cameras: SimCameraInfo[] = [];
    for (const [school, cams] of bySchool) {
      const host = lan.host(school);
      const child = lan.spawn(school, process.execPath, [...process.execArgv, CLI, '--netns-child'], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        env: { ...process.env, [CHILD_ENV]: JSON.stringify({ cameras: cams, addresses: host.addresses, controlBase: control.url, logLevel: opts.logLevel }) },
      });
      const rpc = new ChildRpc(child);
      const ready = await rpc.ready(30_000);
      for (const info of ready) {
        cameras.push(info);
        targets.set(info.id, rpc.target(info));
      }
    }
    const timers = scheduleActions(spec.schedule, targets, opts.logger);
    return {
      cameras,
      controlUrl: control.url,
      netns,
      close: async () => {
        for (const t of timers) clearTimeout(t);
        await lan.close();
        await control?.close();
      },
    };
  } catch (err) {
    await lan.close();
    await control?.close();
    throw err;
  }
}

/** Request/reply over a school child's IPC channel. */
class ChildRpc {
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readyWaiter: ((cams: SimCameraInfo[]) => void) | undefined;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') this.readyWaiter?.(m.cameras);
      else if (m.type === 'reply') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.ok) p.resolve(m.result);
        else p.reject(m.range ? new RangeError(m.error) : new Error(m.error));
      }
    });
    child.once('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`school process exited (${code})`));
      this.pending.clear();
    });
    // A send to a child that has gone emits 'error' on it: without a listener that would end this process.
    child.on('error', () => undefined);
  }

  ready(timeoutMs: number): Promise<SimCameraInfo[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('a school process did not start in time')), timeoutMs);
      this.child.once('exit', (code) => reject(new Error(`a school process exited (${code}) before it was ready`)));
      this.readyWaiter = (cams) => {
        clearTimeout(timer);
        resolve(cams);
      };
    });
  }

  target(info: SimCameraInfo): ControlTarget {
    const camera = info.id;
    const call = (op: Request['op'], name?: string, params?: unknown): Promise<unknown> =>
      new Promise((resolve, reject) => {
        if (!this.child.connected) return reject(new Error('the school process of this camera is gone'));
        const id = ++this.seq;
        this.pending.set(id, { resolve, reject });
        this.child.send({ id, camera, op, name, params } satisfies Request, (err) => {
          if (!err) return;
          this.pending.delete(id);
          reject(new Error(`the school process of this camera is gone: ${err.message}`));
        });
      });
    return {
      id: camera,
      info: () => info,
      state: () => call('state'),
      applyFault: async (name, params) => void (await call('fault', name, params)),
      triggerEvent: async (name, params) => void (await call('event', name, params)),
      clearFaults: async () => void (await call('clear')),
    };
  }
}

/** True when this process is a school child of namespace mode. */
export function isNetnsChild(): boolean {
  return process.env[CHILD_ENV] !== undefined;
}

/** The school child: cameras on their own addresses inside the namespace, driven over IPC. */
export async function runNetnsChild(): Promise<void> {
  const cfg = JSON.parse(process.env[CHILD_ENV]!) as { cameras: CameraSpec[]; addresses: string[]; controlBase: string; logLevel: string };
  const logger = pino({ name: 'device-sim', level: cfg.logLevel }, pino.destination(2));
  const fleet = await Fleet.create({ spec: { cameras: cfg.cameras, schedule: [] }, addresses: cfg.addresses.slice(0, cfg.cameras.length), controlBase: cfg.controlBase, logger });
  const byId = new Map(fleet.cameras.map((c) => [c.id, c]));
  process.on('message', (m: Request) => {
    const cam = byId.get(m.camera);
    const reply = (r: ReplyBody): void => void process.send?.({ type: 'reply', id: m.id, ...r });
    try {
      if (!cam) throw new Error('no such camera');
      if (m.op === 'fault') cam.applyFault(m.name as FaultName, m.params as never);
      else if (m.op === 'event') cam.triggerEvent(m.name as EventName, m.params as never);
      else if (m.op === 'clear') cam.clearFaults();
      reply({ ok: true, result: m.op === 'state' ? cam.state() : undefined });
    } catch (err) {
      reply({ ok: false, error: (err as Error).message, range: err instanceof RangeError });
    }
  });
  const stop = (): void => {
    void fleet.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  process.send?.({ type: 'ready', cameras: fleet.info().cameras });
}
