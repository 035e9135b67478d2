import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { stopAllSocketsNow } from '@schoolcam/protocol/webrtc/werift-peer';
import { FanoutShard, type ShardOptions } from './fanout-shard';
import type { ShardEvent, ShardRequest } from './shard-messages';

/** What the facade hands a shard's thread. */
export interface ShardWorkerData {
  index: number;
  options: ShardOptions;
  logLevel: string;
  /** Log event-loop delay, GC pauses, CPU and counters every 5 s (diagnostics). */
  trace: boolean;
}

/**
 * Entry of a fan-out shard's worker thread (loaded through `shard-worker-boot.mjs`): runs a
 * {@link FanoutShard} and bridges it to the facade. An error nobody caught (a bug) ends the
 * thread — after its sockets are stopped — and the facade restarts it; the viewers it carried
 * reconnect on their own.
 */
const port = parentPort;
if (!port) throw new Error('shard-worker.ts runs only as a worker thread');
const data = workerData as ShardWorkerData;
const log = pino({ name: 'control-center', level: data.logLevel }, pino.destination(2)).child({ module: 'centre:fanout', shard: data.index });
const shard = new FanoutShard(data.options, (ev: ShardEvent) => port.postMessage(ev), log);
process.on('uncaughtException', (err) => {
  stopAllSocketsNow();
  log.fatal({ err }, 'fan-out shard failed');
  process.exit(1);
});
port.on('message', (req: ShardRequest) => shard.handle(req));
if (data.trace) {
  const { monitorEventLoopDelay, PerformanceObserver } = await import('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const gc = { total: 0, max: 0, major: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.total += e.duration;
      gc.max = Math.max(gc.max, e.duration);
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === 4) gc.major++;
    }
  }).observe({ entryTypes: ['gc'] });
  let cpu = process.cpuUsage();
  setInterval(() => {
    const c = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const s = shard.stats();
    log.warn({ gcMs: Math.round(gc.total), gcMaxMs: Math.round(gc.max), majorGcs: gc.major, lagP99: Math.round(h.percentile(99) / 1e6), lagMax: Math.round(h.max / 1e6), threadCpuPct: Math.round((c.user + c.system) / 50000), viewers: s.viewers, out: s.packetsOut, skips: s.skips, inn: s.packetsIn }, 'shard trace');
    h.reset();
    gc.total = 0;
    gc.max = 0;
    gc.major = 0;
  }, 5000).unref();
}
port.postMessage({ type: 'ready' } satisfies ShardEvent);
