import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { linkReason, type CameraHealth, type CameraInventory } from '@schoolcam/protocol/link/link-messages';
import type { CameraConfig } from '../config';
import { CameraEventWatcher, type PullPointFactory } from '../events/camera-event-watcher';
import { Presence } from '../events/presence';
import type { NewEvent } from '../storage/event-outbox';
import type { EventStateStore } from '../storage/event-state-store';
import { Camera, type CameraOptions, type CameraSourceFactory } from './camera';

export interface SupervisedCameraEvents {
  /** Something the centre must hear about, to be stored in the outbox. */
  event: [event: NewEvent];
  /** State, reason, presence or event health changed: worth a health report now. */
  changed: [];
}

export interface SupervisionDeps {
  sourceFactory: CameraSourceFactory;
  /** ONVIF pull points for a camera; undefined turns events off (tests, or a camera without ONVIF). */
  pullPoints?: (cfg: CameraConfig) => PullPointFactory | undefined;
  /** Reachability probe (TCP connect), used for fast reconnects and for idle plain-RTSP cameras. */
  probe?: (cfg: CameraConfig) => Promise<boolean>;
  camera: Omit<CameraOptions, 'probe'>;
  /** A camera silent this long (no stream, no event pull, no probe answer) is offline. Default 10 000 ms. */
  offlineAfterMs?: number;
  /** How often an idle camera without an event pull is probed. Default 15 000 ms. */
  idleProbeMs?: number;
  /** Motion/tamper states kept across restarts. */
  eventStates?: EventStateStore;
}

/**
 * A camera with everything the gateway watches about it: the stream ({@link Camera}), its ONVIF
 * events ({@link CameraEventWatcher}), and whether it is there at all ({@link Presence}, fed by
 * the stream, the event pull, and — for a plain-RTSP camera nobody watches — a probe every 15 s).
 * Motion, tamper and offline/online become events for the outbox.
 */
export class SupervisedCamera extends EventEmitter<SupervisedCameraEvents> {
  readonly camera: Camera;
  private readonly watcher: CameraEventWatcher | undefined;
  private readonly presence: Presence;
  /** The camera's other ONVIF profile (main ↔ sub), opened when a viewer asks for it. */
  private other: Camera | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private offlineReason: string | undefined;
  private closed = false;

  constructor(
    readonly config: CameraConfig,
    private readonly deps: SupervisionDeps,
    private readonly log: Logger,
  ) {
    super();
    const probe = deps.probe;
    this.camera = new Camera(config, deps.sourceFactory, { ...deps.camera, probe: probe ? () => probe(config) : undefined }, log);
    this.presence = new Presence(deps.offlineAfterMs ?? 10_000);
    this.camera.on('state', () => this.emit('changed'));
    this.camera.on('liveness', (l) => {
      this.presence.set('stream', l);
      if (l !== 'inactive') this.presence.set('probe', 'inactive');
      if (l === 'failing') this.offlineReason = this.camera.stateReason;
    });
    const factory = deps.pullPoints?.(config);
    if (factory) {
      const states = deps.eventStates;
      this.watcher = new CameraEventWatcher(config.id, factory, log, {
        known: states?.get(config.id),
        remember: states ? (kind, active) => states.set(config.id, kind, active) : undefined,
      });
      this.watcher.on('notice', (n) => this.emit('event', { cameraId: config.id, kind: n.kind, active: n.active, at: Date.now(), ...(n.cameraTime ? { cameraTime: n.cameraTime } : {}) }));
      this.watcher.on('status', (_status, reason) => {
        if (reason) this.offlineReason = reason;
        this.emit('changed');
      });
      this.watcher.on('liveness', (l) => this.presence.set('events', l));
    }
    this.presence.on('change', (online, previous) => {
      this.log.info({ camera: config.id, online }, online ? 'camera online' : 'camera offline');
      if (online && previous === false) this.emit('event', { cameraId: config.id, kind: 'camera_online', at: Date.now() });
      if (!online) this.emit('event', { cameraId: config.id, kind: 'camera_offline', at: Date.now(), reason: linkReason(this.offlineReason ?? 'the camera does not answer') });
      this.emit('changed');
    });
  }

  get id(): string {
    return this.config.id;
  }

  start(): void {
    this.watcher?.start();
    if (!this.watcher && this.deps.probe) this.scheduleIdleProbe(0);
  }

  /** The stream state, shown as `offline` while the camera does not answer and is not streaming. */
  inventory(): CameraInventory {
    const inv = this.measured().inventory();
    if (this.presence.online === false && inv.state !== 'streaming' && inv.state !== 'starting') {
      return { ...inv, state: 'offline', reason: linkReason(this.offlineReason ?? inv.reason ?? 'the camera does not answer') };
    }
    return inv;
  }

  health(now = Date.now()): CameraHealth {
    const inv = this.inventory();
    const cam = this.measured();
    const { fps, bitrateKbps } = cam.running ? cam.stats.rates(now) : { fps: 0, bitrateKbps: 0 };
    const h: CameraHealth = {
      cameraId: inv.id,
      state: inv.state,
      fps,
      bitrateKbps,
      reconnects: cam.reconnects,
      events: this.watcher ? (this.watcher.status === 'failing' ? 'failing' : 'ok') : 'none',
    };
    if (inv.reason) h.reason = inv.reason;
    if (this.presence.online !== undefined) h.online = this.presence.online;
    if (cam.stats.lastFrameAt !== undefined) h.lastFrameAt = cam.stats.lastFrameAt;
    if (cam.stats.keyframeIntervalMs !== undefined) h.keyframeIntervalMs = Math.min(cam.stats.keyframeIntervalMs, 3_600_000);
    if (inv.width !== undefined && inv.height !== undefined) {
      h.width = inv.width;
      h.height = inv.height;
    }
    if (cam.transport) h.transport = cam.transport;
    return h;
  }

  /** The stream whose state and figures stand for the camera: the configured one, unless only the other profile is being pulled. */
  private measured(): Camera {
    return !this.camera.running && this.other?.running ? this.other : this.camera;
  }

  /**
   * The stream of a profile: `main` (the largest) or `sub` (the smallest) of an ONVIF camera — the
   * dashboard's grid asks for the sub stream, a single large view for the main one. The configured
   * profile is {@link camera} (its health is the camera's); the other is pulled on its own, on
   * demand, with the same linger. A plain RTSP camera has one stream, whatever is asked.
   */
  streamFor(profile: 'main' | 'sub' | undefined): Camera {
    const configured = this.config.onvif?.profile ?? 'main';
    if (!profile || profile === configured || !this.config.onvif || this.closed) return this.camera;
    if (!this.other) {
      this.other = new Camera({ ...this.config, onvif: { ...this.config.onvif, profile } }, this.deps.sourceFactory, { ...this.deps.camera, probe: undefined }, this.log.child({ profile }));
      // Its state shows while it is the one pulled (the grid's sub stream with no single view open).
      this.other.on('state', () => this.emit('changed'));
    }
    return this.other;
  }

  /** Idempotent: stream, event pull, probes; nothing is emitted once it starts. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    this.presence.close();
    await Promise.all([this.camera.close(), this.other?.close(), this.watcher?.close()]);
    this.removeAllListeners();
  }

  override emit<K extends keyof SupervisedCameraEvents>(event: K, ...args: SupervisedCameraEvents[K]): boolean {
    return this.closed ? false : super.emit(event, ...(args as never));
  }

  /** A plain-RTSP camera nobody watches says nothing about itself: ask it, now and then, whether it is there. */
  private scheduleIdleProbe(delayMs: number): void {
    const probe = this.deps.probe;
    if (!probe || this.closed) return;
    this.probeTimer = setTimeout(() => {
      if (this.camera.running || this.closed) return this.scheduleIdleProbe(this.deps.idleProbeMs ?? 15_000);
      probe(this.config).then(
        (ok) => {
          if (this.closed) return;
          if (!ok) this.offlineReason = 'the camera does not accept connections';
          if (!this.camera.running) this.presence.set('probe', ok ? 'ok' : 'failing');
          this.scheduleIdleProbe(this.deps.idleProbeMs ?? 15_000);
        },
        () => this.scheduleIdleProbe(this.deps.idleProbeMs ?? 15_000),
      );
    }, delayMs);
  }
}
