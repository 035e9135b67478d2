import { type ChildProcess, fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ViewerCommand, ViewerReport } from './light-viewer';

/** A process of light WebRTC viewers (`light-viewer.ts`), driven over IPC; stopped by PID-owned handle only. */
export class ViewerProcess {
  readonly child: ChildProcess;
  count = 0;
  private waiting: ((r: ViewerReport) => void)[] = [];

  /** `nice`: the scheduling priority of the process (0 normal, 19 lowest), so that the load it generates yields to what it measures. */
  constructor(nice = 0) {
    this.child = fork(fileURLToPath(new URL('./light-viewer.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    if (nice !== 0 && this.child.pid !== undefined) setPriority(this.child.pid, nice);
    this.child.on('message', (r: ViewerReport) => this.waiting.shift()?.(r));
  }

  request(cmd: ViewerCommand, timeoutMs = 120_000): Promise<Extract<ViewerReport, { type: 'stats' }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`viewer process did not answer ${cmd.type} in ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((r) => {
        clearTimeout(timer);
        if (r.type === 'error') reject(new Error(r.message));
        else resolve(r);
      });
      this.child.send(cmd);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ type: 'stop' } satisfies ViewerCommand);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(kill);
  }
}
