import http from 'node:http';
import type { Logger } from 'pino';
import { SimCamera, type SimCameraInfo } from './camera/sim-camera';

/** Schools of the reference region (Karlovarský kraj) used to name a default fleet. */
export const REFERENCE_SCHOOLS = [
  { id: 'zs-karlovy-vary', name: 'ZŠ Karlovy Vary' },
  { id: 'zs-sokolov', name: 'ZŠ Sokolov' },
  { id: 'gym-cheb', name: 'Gymnázium Cheb' },
  { id: 'zs-marianske-lazne', name: 'ZŠ Mariánské Lázně' },
] as const;

const CAMERA_NAMES = ['Vchod', 'Chodba', 'Dvůr', 'Tělocvična', 'Jídelna', 'Parkoviště', 'Šatna', 'Knihovna'];

export interface FleetOptions {
  /** Total cameras. */
  cameras: number;
  /** Schools to spread them over (round robin). Default min(cameras, 2). */
  schools?: number;
  width?: number;
  height?: number;
  fps?: number;
  gopSeconds?: number;
  host?: string;
  logger: Logger;
}

/** Many simulated cameras on one host, each on its own ports, plus one control API server. */
export class Fleet {
  private closed = false;

  private constructor(
    readonly cameras: SimCamera[],
    private readonly control: http.Server,
    readonly controlUrl: string,
  ) {}

  static async create(opts: FleetOptions): Promise<Fleet> {
    if (!Number.isInteger(opts.cameras) || opts.cameras < 1 || opts.cameras > 1000) throw new RangeError('cameras must be an integer 1..1000');
    const host = opts.host ?? '127.0.0.1';
    const byId = new Map<string, SimCamera>();
    const control = http.createServer((req, res) => handleControl(byId, req, res));
    await new Promise<void>((resolve, reject) => {
      control.once('error', reject);
      control.listen(0, host, () => resolve());
    });
    const port = (control.address() as { port: number }).port;
    const controlUrl = `http://${host}:${port}`;
    const schools = Math.min(opts.schools ?? Math.min(opts.cameras, 2), REFERENCE_SCHOOLS.length * 100);
    const cameras: SimCamera[] = [];
    try {
      for (let i = 0; i < opts.cameras; i++) {
        const s = i % schools;
        const k = Math.floor(i / schools);
        const school = REFERENCE_SCHOOLS[s % REFERENCE_SCHOOLS.length]!;
        const schoolId = s < REFERENCE_SCHOOLS.length ? school.id : `${school.id}-${Math.floor(s / REFERENCE_SCHOOLS.length) + 1}`;
        const cam = await SimCamera.create({
          id: `${schoolId}-cam${k + 1}`,
          name: CAMERA_NAMES[k % CAMERA_NAMES.length]! + (k >= CAMERA_NAMES.length ? ` ${k + 1}` : ''),
          school: schoolId,
          width: opts.width,
          height: opts.height,
          fps: opts.fps,
          gopSeconds: opts.gopSeconds,
          host,
          controlBase: controlUrl,
          logger: opts.logger,
        });
        cameras.push(cam);
        byId.set(cam.opts.id, cam);
      }
    } catch (err) {
      await Promise.all(cameras.map((c) => c.close()));
      control.close();
      throw err;
    }
    return new Fleet(cameras, control, controlUrl);
  }

  info(): { cameras: SimCameraInfo[] } {
    return { cameras: this.cameras.map((c) => c.info()) };
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.cameras.map((c) => c.close()));
    await new Promise<void>((resolve) => {
      this.control.close(() => resolve());
      this.control.closeAllConnections();
    });
  }
}

function handleControl(byId: Map<string, SimCamera>, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const m = /^\/cameras\/([^/]+)(\/.*)?$/.exec(url.pathname);
  if (req.method === 'GET' && url.pathname === '/cameras') return send(200, { cameras: [...byId.values()].map((c) => c.state()) });
  if (!m) return send(404, { error: 'NOT_FOUND', message: 'no such control endpoint' });
  const cam = byId.get(decodeURIComponent(m[1]!));
  if (!cam) return send(404, { error: 'NOT_FOUND', message: 'no such camera' });
  const rest = m[2] ?? '/';
  if (req.method === 'GET' && (rest === '/state' || rest === '/')) return send(200, cam.state());
  if (req.method === 'POST' && rest === '/keyframe') {
    cam.main.requestKeyframe();
    return send(200, { ok: true });
  }
  return send(404, { error: 'NOT_FOUND', message: `unknown control ${req.method} ${rest}` });
}
