import type { Logger } from 'pino';
import { SimCamera, type SimCameraInfo } from './camera/sim-camera';
import { ControlApi, type ControlTarget } from './control/control-api';
import type { FleetSpec, ScheduledAction } from './fleet-config';
import { WsDiscoveryResponder, stableDeviceUuid } from './discovery/ws-discovery';

export interface FleetOptions {
  spec: FleetSpec;
  /** Address every camera binds to. Default 127.0.0.1. */
  host?: string;
  /**
   * One address per camera (namespace mode: each camera its own IP). Each camera then answers
   * WS-Discovery on its own address, like a real device.
   */
  addresses?: string[];
  /**
   * Where WS-Discovery listens for multicast Probes and sends Hello/Bye: an interface address,
   * undefined for every multicast-capable interface, or `none` for directed (unicast) probes
   * only, on `host` — what tests and the single-host demo use.
   */
  discoveryInterface?: string;
  /**
   * With `discoveryInterface: 'none'`: also one directed-probe responder per school, answering
   * for that school's cameras only (a single-host demo, where every school's gateway probes
   * "its LAN" and must not see the other schools' cameras). See {@link Fleet.schoolDiscoveryPorts}.
   */
  discoveryPerSchool?: boolean;
  /** Base URL of a control API that fronts this fleet (namespace mode); default: the fleet runs its own. */
  controlBase?: string;
  logger: Logger;
}

/** Many simulated cameras on one host, each on its own ports, plus one control API server. */
export class Fleet {
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    readonly cameras: SimCamera[],
    private readonly control: ControlApi | undefined,
    readonly responders: WsDiscoveryResponder[],
    readonly controlUrl: string,
    private readonly schoolResponders: ReadonlyMap<string, WsDiscoveryResponder> = new Map(),
  ) {}

  /** UDP port of each school's directed-probe responder ({@link FleetOptions.discoveryPerSchool}), by school id. */
  get schoolDiscoveryPorts(): Record<string, number> {
    return Object.fromEntries([...this.schoolResponders].map(([school, r]) => [school, r.port]));
  }

  static async create(opts: FleetOptions): Promise<Fleet> {
    const host = opts.host ?? '127.0.0.1';
    if (opts.addresses && opts.addresses.length !== opts.spec.cameras.length) throw new RangeError('one address per camera');
    const byId = new Map<string, SimCamera>();
    const control = opts.controlBase === undefined ? await ControlApi.create(() => byId, host, opts.logger.child({ module: 'sim:control' })) : undefined;
    const controlBase = opts.controlBase ?? control!.url;
    const cameras: SimCamera[] = [];
    const responders: WsDiscoveryResponder[] = [];
    const schoolResponders = new Map<string, WsDiscoveryResponder>();
    const fail = async (err: unknown): Promise<never> => {
      await Promise.all(responders.map((r) => r.close({ bye: false })));
      await Promise.all(cameras.map((c) => c.close()));
      await control?.close();
      throw err;
    };
    try {
      for (const [i, spec] of opts.spec.cameras.entries()) {
        const cam = await SimCamera.create({ ...spec, host: opts.addresses?.[i] ?? host, controlBase, logger: opts.logger });
        cameras.push(cam);
        byId.set(cam.id, cam);
      }
      const dlog = opts.logger.child({ module: 'sim:discovery' });
      if (opts.addresses) {
        for (const [i, cam] of cameras.entries()) {
          responders.push(await WsDiscoveryResponder.create({ interfaceAddress: opts.addresses[i], devices: () => discoverable([cam]), logger: dlog }));
        }
      } else {
        const none = opts.discoveryInterface === 'none';
        responders.push(
          await WsDiscoveryResponder.create({
            interfaceAddress: none ? host : opts.discoveryInterface,
            port: none ? 0 : undefined,
            multicast: !none,
            devices: () => discoverable(cameras),
            logger: dlog,
          }),
        );
        if (none && opts.discoveryPerSchool) {
          for (const school of new Set(cameras.map((c) => c.opts.school))) {
            const own = cameras.filter((c) => c.opts.school === school);
            const responder = await WsDiscoveryResponder.create({ interfaceAddress: host, port: 0, multicast: false, devices: () => discoverable(own), logger: dlog });
            responders.push(responder);
            schoolResponders.set(school, responder);
          }
        }
      }
    } catch (err) {
      return fail(err);
    }
    for (const [i, cam] of cameras.entries()) {
      const responder = responders[opts.addresses ? i : 0];
      // A failed announcement is logged by the responder; the camera goes on either way.
      cam.setPresenceListener({
        bye: (id) => void responder.bye([stableDeviceUuid(id)]).catch(() => undefined),
        hello: (id) => void responder.hello([stableDeviceUuid(id)]).catch(() => undefined),
      });
    }
    const fleet = new Fleet(cameras, control, responders, controlBase, schoolResponders);
    fleet.timers.push(...scheduleActions(opts.spec.schedule, byId, opts.logger));
    return fleet;
  }

  /** The WS-Discovery responder of a single-address fleet. */
  get discovery(): WsDiscoveryResponder {
    return this.responders[0];
  }

  info(): { cameras: SimCameraInfo[] } {
    return { cameras: this.cameras.map((c) => c.info()) };
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.responders.map((r) => r.close()));
    await Promise.all(this.cameras.map((c) => c.close()));
    await this.control?.close();
  }
}

/** Plays a fleet file's schedule against its cameras (in this process or behind a namespace proxy). */
export function scheduleActions(actions: readonly ScheduledAction[], byId: ReadonlyMap<string, ControlTarget>, log: Logger): NodeJS.Timeout[] {
  return actions.map((a) =>
    setTimeout(() => {
      const cam = byId.get(a.camera);
      if (!cam) return;
      const run = async (): Promise<void> => {
        if (a.fault) await cam.applyFault(a.fault, (a.params ?? {}) as never);
        else if (a.event) await cam.triggerEvent(a.event, (a.params ?? {}) as never);
      };
      run().then(
        () => log.info({ camera: a.camera, fault: a.fault, event: a.event }, 'scheduled action'),
        (err: Error) => log.warn({ camera: a.camera, err: err.message }, 'scheduled action failed'),
      );
    }, a.at * 1000),
  );
}

function discoverable(cameras: readonly SimCamera[]) {
  return cameras
    .filter((c) => !c.isDown)
    .map((c) => ({ uuid: stableDeviceUuid(c.id), name: c.opts.name, hardware: c.model.hardwareId, school: c.opts.school, xaddr: c.onvif.xaddr, ...c.discoveryFaults }));
}
