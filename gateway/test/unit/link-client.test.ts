import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseGatewayAuth, parseLinkMessage, type LinkMessage } from '@schoolcam/protocol/link/link-messages';
import { LinkClient, type LinkSocket } from '../../src/link/link-client';

/** A WebSocket the test opens, feeds and closes by hand. */
class FakeSocket extends EventEmitter implements LinkSocket {
  readyState = 0;
  readonly sent: LinkMessage[] = [];
  terminated = false;
  constructor(
    readonly url: string,
    readonly headers: Record<string, string>,
  ) {
    super();
  }
  send(data: string): void {
    this.sent.push(parseLinkMessage(data));
  }
  terminate(): void {
    this.terminated = true;
    this.drop(1006);
  }
  open(): void {
    this.readyState = 1;
    this.emit('open');
  }
  receive(m: unknown): void {
    this.emit('message', Buffer.from(typeof m === 'string' ? m : JSON.stringify(m)));
  }
  drop(code = 1006): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close', code, Buffer.from(''));
  }
}

const logs: { level: string; msg: string }[] = [];
const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as { level: string; msg: string }) });

let sockets: FakeSocket[];
let client: LinkClient;
beforeEach(() => {
  vi.useFakeTimers({ now: 5_000_000 });
  sockets = [];
  logs.length = 0;
  client = new LinkClient(
    {
      centerUrl: 'https://centre.example:8443/',
      gatewayId: 'gw-1',
      secret: 's3cret-value',
      minBackoffMs: 1000,
      maxBackoffMs: 8000,
      openSocket: (url, headers) => {
        const s = new FakeSocket(url, headers);
        sockets.push(s);
        return s;
      },
    },
    log,
  );
});
afterEach(() => {
  client.close();
  vi.useRealTimers();
});

describe('LinkClient', () => {
  it('dials wss://…/link with the gateway credentials and emits the centre’s messages', () => {
    const got: LinkMessage[] = [];
    client.on('message', (m) => got.push(m));
    client.start();
    expect(sockets[0].url).toBe('wss://centre.example:8443/link');
    expect(parseGatewayAuth(sockets[0].headers.authorization)).toEqual({ gatewayId: 'gw-1', secret: 's3cret-value' });
    sockets[0].open();
    expect(client.isOpen).toBe(true);
    sockets[0].receive({ type: 'events.ack', ids: ['a'] });
    expect(got).toEqual([{ type: 'events.ack', ids: ['a'] }]);
  });

  it('checks every outgoing message with the shared schema and sends none the centre would refuse', () => {
    client.start();
    sockets[0].open();
    expect(client.send({ type: 'camera.state', camera: { id: 'cam1', name: 'Vchod', state: 'streaming', width: 1280, height: 720 } })).toBe(true);
    expect(client.send({ type: 'camera.state', camera: { id: 'cam1', name: 'Vchod', state: 'streaming', width: 99_999, height: 720 } })).toBe(false);
    expect(client.send({ type: 'events', events: [] })).toBe(false);
    expect(sockets[0].sent).toHaveLength(1);
    expect(logs.some((l) => l.msg === 'refusing to send a link message the centre would reject')).toBe(true);
  });

  it('ignores (and logs) frames that do not match the schema, staying connected', () => {
    const got: LinkMessage[] = [];
    client.on('message', (m) => got.push(m));
    client.start();
    sockets[0].open();
    sockets[0].receive('not json');
    sockets[0].receive({ type: 'reboot-now' });
    sockets[0].receive({ type: 'events.ack', ids: [] });
    expect(got).toEqual([]);
    expect(client.isOpen).toBe(true);
    expect(logs.filter((l) => l.msg === 'bad message from centre')).toHaveLength(3);
  });

  it('reconnects with jittered, doubling backoff while the centre is away, and resets it once connected', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // jitter factor 1
    const downs: string[] = [];
    client.on('down', (r) => downs.push(r));
    client.start();
    sockets[0].drop(); // never opened: no 'down'
    vi.advanceTimersByTime(999);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);
    sockets[1].drop();
    vi.advanceTimersByTime(2000);
    expect(sockets).toHaveLength(3);
    sockets[2].drop();
    vi.advanceTimersByTime(4000);
    sockets[3].drop();
    vi.advanceTimersByTime(8000);
    sockets[4].drop();
    vi.advanceTimersByTime(8000); // capped
    expect(sockets).toHaveLength(6);
    sockets[5].open();
    sockets[5].drop();
    expect(downs).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(7);
  });

  it('pings at the interval the centre asks for and drops a centre silent for three intervals', () => {
    client.start();
    sockets[0].open();
    sockets[0].receive({ type: 'welcome', gatewayId: 'gw-1', heartbeatMs: 1000 });
    vi.advanceTimersByTime(1000);
    expect(sockets[0].sent.map((m) => m.type)).toEqual(['ping']);
    sockets[0].receive({ type: 'pong', t: 1 });
    vi.advanceTimersByTime(3000);
    expect(sockets[0].terminated).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(sockets[0].terminated).toBe(true);
    expect(client.isOpen).toBe(false);
  });

  it('close() is idempotent and stops reconnecting', () => {
    client.start();
    client.close();
    client.close();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(sockets[0].terminated).toBe(true);
  });
});
