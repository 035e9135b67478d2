import { readFileSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { type CameraInventory, type GatewayEvent, type LinkMessage, linkReason, unreachable } from '@schoolcam/protocol/link/link-messages';
import type { PeerOptions } from '@schoolcam/protocol/webrtc/werift-peer';
import { storagePaths, type CameraConfig, type GatewayConfig } from './config';
import type { CameraSourceFactory } from './camera/camera';
import { rtspSourceFactory } from './camera/rtsp-camera-source';
import { SupervisedCamera, type SupervisionDeps } from './camera/supervised-camera';
import { probeCamera } from './camera/tcp-probe';
import { checkCamera } from './check/camera-check';
import { discoverDevices, parseAddressRange } from './discovery/discovery-client';
import type { PullPointFactory } from './events/camera-event-watcher';
import { EventDelivery } from './link/event-delivery';
import { LinkClient } from './link/link-client';
import { RequestHandler } from './link/request-handler';
import { fetchCameraSnapshot } from './snapshot/camera-snapshot';
import { OnvifPullPoint } from './onvif/onvif-client';
import { GatewayError } from './errors';
import { CameraRegistry } from './storage/camera-registry';
import { openDatabase, type Db } from './storage/database';
import { EventOutbox, type NewEvent } from './storage/event-outbox';
import { EventStateStore } from './storage/event-state-store';
import { SecretBox } from './storage/secret-box';
import { WebRtcUplink } from './uplink/webrtc-uplink';

export const GATEWAY_VERSION = '0.2.0';

/** Health goes to the centre this often, and within {@link HEALTH_DEBOUNCE_MS} of any change. */
const HEALTH_INTERVAL_MS = 10_000;
const HEALTH_DEBOUNCE_MS = 200;
/** Cameras per `health` message. */
const HEALTH_BATCH = 200;
/** How often the registry is checked for changes made by the CLI. */
const REGISTRY_POLL_MS = 1000;

export interface GatewayOptions {
  logger?: Logger;
  /** Replaces the RTSP/ONVIF source (tests). */
  sourceFactory?: CameraSourceFactory;
  /** Replaces the ONVIF pull points (tests); return undefined for no events. */
  pullPoints?: (cfg: CameraConfig) => PullPointFactory | undefined;
  /** Replaces the TCP reachability probe (tests). */
  probe?: (cfg: CameraConfig) => Promise<boolean>;
  /** Overrides of camera timing (tests). */
  camera?: Partial<Omit<SupervisionDeps['camera'], 'lingerMs'>>;
  /** Link reconnect backoff (tests). */
  link?: { minBackoffMs?: number; maxBackoffMs?: number };
  /** Event resend after no ack (tests). */
  resendAfterMs?: number;
  /** UDP port of the centre's directed discovery probes (tests against simulators on loopback); default 3702. */
  discoveryPort?: number;
}

/**
 * The school gateway: the cameras of one school (kept in its SQLite registry), one outbound link
 * to the centre, one WebRTC uplink per stream the centre asked for, the ONVIF events of every
 * camera stored in an outbox until the centre acks them, and health reports.
 */
export class Gateway {
  private readonly cameras = new Map<string, SupervisedCamera>();
  private readonly specs = new Map<string, string>();
  private readonly uplinks = new Map<string, { uplink: WebRtcUplink; cameraId: string }>();
  /** Streams whose uplink is being negotiated, and whether they were called off meanwhile. */
  private readonly starting = new Map<string, { cancelled: boolean; cameraId: string }>();
  private readonly lastSentState = new Map<string, string>();
  private readonly link: LinkClient;
  private readonly delivery: EventDelivery;
  private readonly requests: RequestHandler;
  private readonly peerOpts: PeerOptions;
  private readonly supervision: SupervisionDeps;
  private healthTimer: NodeJS.Timeout | undefined;
  private healthSoon: NodeJS.Timeout | undefined;
  private registryTimer: NodeJS.Timeout | undefined;
  private registryVersion: number;
  private readonly eventStates: EventStateStore;
  private closed = false;

  private constructor(
    readonly config: Readonly<GatewayConfig>,
    private readonly log: Logger,
    private readonly db: Db,
    readonly registry: CameraRegistry,
    readonly outbox: EventOutbox,
    opts: GatewayOptions,
  ) {
    this.peerOpts = { loopbackOnly: config.loopbackOnly };
    this.eventStates = new EventStateStore(db);
    this.supervision = {
      sourceFactory: opts.sourceFactory ?? rtspSourceFactory(),
      pullPoints:
        opts.pullPoints ??
        ((cfg) => {
          const onvif = cfg.onvif;
          return onvif ? () => OnvifPullPoint.create({ xaddr: onvif.xaddr, username: onvif.username, password: onvif.password }) : undefined;
        }),
      probe: opts.probe ?? ((cfg) => probeCamera(cfg)),
      camera: { lingerMs: config.lingerMs, ...opts.camera },
      eventStates: this.eventStates,
    };
    const ca = config.centerCaFile ? readFileSync(config.centerCaFile, 'utf8') : undefined;
    this.link = new LinkClient({ centerUrl: config.centerUrl, gatewayId: config.gatewayId, secret: config.secret, ca, ...opts.link }, log.child({ module: 'gateway:link' }));
    this.delivery = new EventDelivery(outbox, this.link, log.child({ module: 'gateway:events' }), { resendAfterMs: opts.resendAfterMs });
    this.requests = new RequestHandler(
      {
        registry,
        discover: (req) =>
          discoverDevices({
            interfaceAddress: req.interface,
            multicast: req.multicast,
            targets: req.range === undefined ? [] : parseAddressRange(req.range),
            port: opts.discoveryPort ?? config.discoveryPort,
            timeoutMs: req.timeoutMs,
            username: req.username,
            password: req.password,
            loopbackOnly: config.loopbackOnly,
            logger: log.child({ module: 'gateway:discovery' }),
          }),
        check: (req) => checkCamera({ url: req.url, username: req.username, password: req.password, timeoutMs: req.timeoutMs }),
        snapshot: (req) => {
          const cam = registry.get(req.cameraId);
          if (!cam) return Promise.reject(new GatewayError('NOT_FOUND', `no camera ${req.cameraId} on this gateway`));
          if (!cam.onvif) return Promise.reject(new GatewayError('UNSUPPORTED', 'a plain RTSP camera has no snapshot service; register it through ONVIF for snapshots'));
          const { xaddr, username, password } = cam.onvif;
          return fetchCameraSnapshot({ xaddr, username, password, profile: req.profile ?? 'main', allowBasicAuth: cam.allowBasicAuth });
        },
        registryChanged: () => this.reconcile(),
        inventory: (id) => this.cameras.get(id)?.inventory(),
        send: (msg) => this.link.send(msg),
      },
      log.child({ module: 'gateway:requests' }),
    );
    this.registryVersion = registry.dataVersion();
    this.link.on('open', () => this.onLinkUp());
    this.link.on('message', (msg) => this.onMessage(msg));
    this.link.on('down', () => {
      this.delivery.linkDown();
      this.closeUplinks('link down');
    });
  }

  /**
   * Opens the registry and outbox (`dataDir`), seeds the config's cameras, starts every camera's
   * supervision and dials the centre. Rejects (opening nothing) when the storage cannot be used:
   * an unreadable database, a missing or wrong key file.
   */
  static create(config: Readonly<GatewayConfig>, opts: GatewayOptions = {}): Promise<Gateway> {
    const log = opts.logger ?? pino({ name: 'gateway', level: config.logLevel }, pino.destination(2));
    const paths = storagePaths(config);
    let gw: Gateway;
    let db: Db | undefined;
    try {
      db = openDatabase(paths.database);
      const registry = new CameraRegistry(db, SecretBox.open(paths.keyFile, db));
      registry.seedFromConfig(config.cameras);
      const outbox = new EventOutbox(db, { onDropped: (n) => log.warn({ dropped: n }, 'event outbox full; oldest events dropped') });
      gw = new Gateway(config, log, db, registry, outbox, opts);
      gw.reconcile();
    } catch (err) {
      db?.close();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    gw.registryTimer = setInterval(() => gw.pollRegistry(), REGISTRY_POLL_MS);
    gw.link.start();
    return Promise.resolve(gw);
  }

  get linkUp(): boolean {
    return this.link.isOpen;
  }

  /** Counts for health and leak tests. */
  stats(): { uplinks: number; camerasRunning: number; cameras: number; outbox: number } {
    let running = 0;
    for (const c of this.cameras.values()) if (c.camera.running) running++;
    return { uplinks: this.uplinks.size, camerasRunning: running, cameras: this.cameras.size, outbox: this.outbox.size() };
  }

  /** The supervised camera (tests, health). */
  camera(id: string): SupervisedCamera | undefined {
    return this.cameras.get(id);
  }

  /** Idempotent: uplinks, then cameras, then the link and the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.registryTimer);
    clearInterval(this.healthTimer);
    clearTimeout(this.healthSoon);
    this.closeUplinks('gateway shutting down');
    await Promise.all([...this.cameras.values()].map((c) => c.close()));
    this.delivery.close();
    this.link.close();
    this.db.close();
  }

  // ---- cameras ----------------------------------------------------------------------------

  /** Makes the running cameras match the registry: new ones started, removed or changed ones closed (their streams ended). */
  private reconcile(): void {
    if (this.closed) return;
    const wanted = new Map(this.registry.list().map((c) => [c.id, c]));
    let changed = false;
    for (const [id, sup] of [...this.cameras]) {
      const spec = wanted.get(id);
      if (spec && JSON.stringify(spec) === this.specs.get(id)) continue;
      this.endStreamsOf(id, spec ? 'camera settings changed' : 'camera removed');
      if (!spec) this.eventStates.forget(id);
      this.cameras.delete(id);
      this.specs.delete(id);
      this.lastSentState.delete(id);
      sup.removeAllListeners();
      void sup.close();
      changed = true;
    }
    for (const [id, spec] of wanted) {
      if (this.cameras.has(id)) continue;
      const sup = new SupervisedCamera(spec, this.supervision, this.log.child({ module: 'gateway:camera', camera: id }));
      sup.on('event', (e) => this.storeEvent(e));
      sup.on('changed', () => this.onCameraChanged(sup));
      this.cameras.set(id, sup);
      this.specs.set(id, JSON.stringify(spec));
      sup.start();
      changed = true;
    }
    if (changed && this.link.isOpen) {
      this.sendHello();
      this.scheduleHealth();
    }
  }

  /** Into the outbox first (committed), then towards the centre. A storage failure is logged, never thrown at a camera's event source. */
  private storeEvent(e: NewEvent): void {
    if (this.closed) return;
    let stored: GatewayEvent;
    try {
      stored = this.outbox.append(e);
    } catch (err) {
      this.log.error({ camera: e.cameraId, kind: e.kind, err: (err as Error).message }, 'event could not be stored; it is lost');
      return;
    }
    this.log.info({ camera: e.cameraId, kind: e.kind, active: e.active, seq: stored.seq }, 'event stored');
    this.delivery.notify();
  }

  private pollRegistry(): void {
    let version: number;
    try {
      version = this.registry.dataVersion();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'registry unreadable');
      return;
    }
    if (version === this.registryVersion) return;
    this.registryVersion = version;
    try {
      this.reconcile();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'registry changed but cannot be read');
    }
  }

  private onCameraChanged(sup: SupervisedCamera): void {
    const inv = sup.inventory();
    const key = JSON.stringify(inv);
    if (this.lastSentState.get(sup.id) !== key && this.link.send({ type: 'camera.state', camera: inv })) this.lastSentState.set(sup.id, key);
    this.scheduleHealth();
  }

  // ---- link -------------------------------------------------------------------------------

  private onLinkUp(): void {
    this.sendHello();
    this.sendHealth();
    clearInterval(this.healthTimer);
    this.healthTimer = setInterval(() => this.sendHealth(), HEALTH_INTERVAL_MS);
    this.delivery.linkUp();
  }

  private sendHello(): void {
    const cameras: CameraInventory[] = [...this.cameras.values()].map((c) => c.inventory());
    for (const inv of cameras) this.lastSentState.set(inv.id, JSON.stringify(inv));
    this.link.send({ type: 'hello', gatewayId: this.config.gatewayId, schoolId: this.config.schoolId, version: GATEWAY_VERSION, cameras });
  }

  private scheduleHealth(): void {
    if (this.healthSoon || this.closed) return;
    this.healthSoon = setTimeout(() => {
      this.healthSoon = undefined;
      this.sendHealth();
    }, HEALTH_DEBOUNCE_MS);
  }

  private sendHealth(): void {
    if (!this.link.isOpen) return;
    const now = Date.now();
    const all = [...this.cameras.values()].map((c) => c.health(now));
    // Batches keep each frame far below the link's 256 KiB limit, whatever the number of cameras.
    for (let i = 0; i < all.length || i === 0; i += HEALTH_BATCH) this.link.send({ type: 'health', cameras: all.slice(i, i + HEALTH_BATCH) });
  }

  private onMessage(msg: LinkMessage): void {
    switch (msg.type) {
      case 'welcome':
      case 'pong':
        return;
      case 'ping':
        this.link.send({ type: 'pong', t: msg.t });
        return;
      case 'stream.start':
        void this.startStream(msg.streamId, msg.cameraId, msg.profile);
        return;
      case 'stream.answer': {
        const entry = this.uplinks.get(msg.streamId);
        if (!entry) return;
        entry.uplink.accept(msg.sdp).catch((err: Error) => {
          this.log.warn({ stream: msg.streamId, err: err.message }, 'bad answer from centre');
          entry.uplink.close(`bad answer: ${err.message}`, 'negotiation');
        });
        return;
      }
      case 'stream.stop': {
        const pending = this.starting.get(msg.streamId);
        if (pending) pending.cancelled = true;
        this.uplinks.get(msg.streamId)?.uplink.close(`centre: ${msg.reason}`, 'centre');
        return;
      }
      case 'events.ack':
        this.delivery.acked(msg.ids);
        return;
      case 'discover':
      case 'check':
      case 'camera.register':
      case 'camera.unregister':
      case 'snapshot':
        this.requests.handle(msg);
        return;
      case 'error':
        this.log.warn({ code: msg.code, message: msg.message }, 'centre reported an error');
        return;
      case 'hello':
      case 'camera.state':
      case 'stream.offer':
      case 'stream.ended':
      case 'events':
      case 'health':
      case 'discover.result':
      case 'check.result':
      case 'camera.registered':
      case 'camera.unregistered':
      case 'snapshot.result':
      case 'request.failed':
        this.log.warn({ type: msg.type }, 'centre sent a gateway-only message');
        return;
      default:
        unreachable(msg);
    }
  }

  // ---- streams ----------------------------------------------------------------------------

  private async startStream(streamId: string, cameraId: string, profile?: 'main' | 'sub'): Promise<void> {
    const sup = this.cameras.get(cameraId);
    if (!sup) {
      this.link.send({ type: 'stream.ended', streamId, cameraId, reason: 'unknown camera' });
      return;
    }
    if (this.uplinks.has(streamId) || this.starting.has(streamId)) return;
    const pending = { cancelled: false, cameraId };
    this.starting.set(streamId, pending);
    try {
      const { uplink, offer } = await WebRtcUplink.create(streamId, sup.streamFor(profile), this.peerOpts, this.log.child({ module: 'gateway:uplink' }));
      // Negotiation takes a while: the centre, the link or the gateway may have gone meanwhile,
      // and nobody would ever stop an uplink whose offer was never delivered.
      if (this.closed || pending.cancelled || !this.link.isOpen || this.cameras.get(cameraId) !== sup) {
        uplink.close(this.closed ? 'gateway shutting down' : 'stream called off while starting', 'centre');
        return;
      }
      this.uplinks.set(streamId, { uplink, cameraId });
      uplink.once('close', (reason, cause) => {
        this.uplinks.delete(streamId);
        // The centre ended it, or knows already (the link is down): nothing to tell.
        if (cause !== 'centre' && cause !== 'link') this.link.send({ type: 'stream.ended', streamId, cameraId, reason: linkReason(reason) });
      });
      // A camera that fails while relayed does not end its stream: the camera reconnects
      // underneath and the uplink carries on; viewers keep their session.
      this.link.send({ type: 'stream.offer', streamId, cameraId, sdp: offer });
    } catch (err) {
      this.log.warn({ stream: streamId, err: (err as Error).message }, 'uplink failed to start');
      this.link.send({ type: 'stream.ended', streamId, cameraId, reason: linkReason(`uplink failed: ${(err as Error).message}`) });
    } finally {
      this.starting.delete(streamId);
    }
  }

  private endStreamsOf(cameraId: string, reason: string): void {
    for (const p of this.starting.values()) if (p.cameraId === cameraId) p.cancelled = true;
    for (const { uplink, cameraId: id } of [...this.uplinks.values()]) if (id === cameraId) uplink.close(reason, 'gateway');
  }

  private closeUplinks(reason: string): void {
    for (const p of this.starting.values()) p.cancelled = true;
    const cause = reason === 'link down' ? 'link' : 'gateway';
    for (const { uplink } of [...this.uplinks.values()]) uplink.close(reason, cause);
  }
}
