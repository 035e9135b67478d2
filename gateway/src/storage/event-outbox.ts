import { randomUUID } from 'node:crypto';
import type { GatewayEvent } from '@schoolcam/protocol/link/link-messages';
import type { Db } from './database';

/** An event before the outbox gave it its id and sequence number. */
export type NewEvent = Omit<GatewayEvent, 'id' | 'seq'>;

export interface OutboxOptions {
  /** Events kept at most; beyond, the oldest are dropped (and reported). Default 100 000. */
  maxEvents?: number;
  /** Told when old events had to be dropped to make room. */
  onDropped?: (count: number) => void;
}

/**
 * Owns the `outbox` table: every event is written here, in its own committed transaction, before
 * anything tries to send it, and stays until the centre acks its id. `seq` comes from SQLite's
 * AUTOINCREMENT, so it only grows, across acks and restarts.
 */
export class EventOutbox {
  private readonly maxEvents: number;

  constructor(
    private readonly db: Db,
    private readonly opts: OutboxOptions = {},
  ) {
    this.maxEvents = opts.maxEvents ?? 100_000;
  }

  /** Stores one event and returns it with its id and seq. */
  append(event: NewEvent, now = Date.now()): GatewayEvent {
    const id = randomUUID();
    const seq = Number(this.db.prepare('INSERT INTO outbox (id, body, created_at) VALUES (?, ?, ?)').run(id, JSON.stringify(event), now).lastInsertRowid);
    const over = this.size() - this.maxEvents;
    if (over > 0) {
      this.db.prepare('DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)').run(over);
      this.opts.onDropped?.(over);
    }
    return { id, seq, ...event };
  }

  /** Up to `limit` unacked events with a seq above `afterSeq`, oldest first. */
  pending(limit: number, afterSeq = 0): GatewayEvent[] {
    const rows = this.db.prepare('SELECT seq, id, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as { seq: number; id: string; body: string }[];
    return rows.map((r) => ({ id: r.id, seq: r.seq, ...(JSON.parse(r.body) as NewEvent) }));
  }

  /** Forgets the acked events; returns how many were still held. */
  ack(ids: readonly string[]): number {
    const del = this.db.prepare('DELETE FROM outbox WHERE id = ?');
    return this.db.transaction(() => ids.reduce((n, id) => n + del.run(id).changes, 0))();
  }

  size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  }
}
