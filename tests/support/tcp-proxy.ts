import net from 'node:net';

/**
 * A TCP proxy on loopback that a test places between a gateway and the centre, to break the
 * link the way networks do: `cut()` resets every connection and refuses new ones (the centre
 * seems gone), `holdReplies()` keeps connections open but stops passing what the centre sends
 * (its acks are lost on the way), `restore()` heals it. `target` may change (a centre restarted
 * on another port).
 */
export class TcpProxy {
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private cutOff = false;
  private holding = false;

  private constructor(
    private readonly server: net.Server,
    public target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new TcpProxy(server, target);
  }

  /** `http://127.0.0.1:<port>`: give this to the gateway as the centre. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Connections passing through now. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Resets every connection and refuses new ones until {@link restore}. */
  cut(): void {
    this.cutOff = true;
    for (const p of [...this.pairs]) this.reset(p);
  }

  /** From now on, bytes from the centre are dropped (connections stay open). */
  holdReplies(): void {
    this.holding = true;
  }

  restore(): void {
    this.cutOff = false;
    this.holding = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.cutOff) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.target);
    const pair = { client, upstream };
    this.pairs.add(pair);
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (!this.holding) client.write(d);
    });
    const end = (): void => this.reset(pair);
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  }

  private reset(p: { client: net.Socket; upstream: net.Socket }): void {
    if (!this.pairs.delete(p)) return;
    if (!p.client.destroyed) p.client.resetAndDestroy();
    if (!p.upstream.destroyed) p.upstream.destroy();
  }
}
