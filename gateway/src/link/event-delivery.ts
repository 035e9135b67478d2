import type { Logger } from 'pino';
import { MAX_EVENTS_PER_MESSAGE, type GatewayEvent, type LinkMessage } from '@schoolcam/protocol/link/link-messages';
import type { EventOutbox } from '../storage/event-outbox';

/** What delivery needs of the link. */
export interface LinkPort {
  readonly isOpen: boolean;
  /** false when the message could not be sent (link down, refused by the schema) */
  send(msg: LinkMessage): boolean;
}

export interface EventDeliveryOptions {
  /** Events sent and not yet acked, at most. Default 500. */
  window?: number;
  /** With events outstanding and no ack for this long, send them again from the oldest. Default 30 000 ms. */
  resendAfterMs?: number;
}

/**
 * Store and forward: drains the {@link EventOutbox} to the centre, oldest first, while the link is
 * up. Nothing is forgotten before the centre acks it by id; whatever was in flight when the link
 * dropped is sent again (same id, same seq) when it comes back, and so is anything the centre
 * left unacked for `resendAfterMs`. The centre stores by id, so a copy it already had costs
 * nothing.
 */
export class EventDelivery {
  /** Highest seq sent on the current link. */
  private sentUpTo = 0;
  private outstanding = 0;
  private resendTimer: NodeJS.Timeout | undefined;
  private readonly window: number;
  private readonly resendAfterMs: number;
  private closed = false;

  constructor(
    private readonly outbox: EventOutbox,
    private readonly link: LinkPort,
    private readonly log: Logger,
    opts: EventDeliveryOptions = {},
  ) {
    this.window = opts.window ?? 500;
    this.resendAfterMs = opts.resendAfterMs ?? 30_000;
  }

  /** The link is (again) up and the centre knows the gateway (after `hello`): send from the oldest unacked event. */
  linkUp(): void {
    this.sentUpTo = 0;
    this.outstanding = 0;
    this.pump();
  }

  /** The link dropped: what was in flight is sent again on the next `linkUp`. */
  linkDown(): void {
    clearTimeout(this.resendTimer);
    this.resendTimer = undefined;
    this.sentUpTo = 0;
    this.outstanding = 0;
  }

  /** A new event is in the outbox. */
  notify(): void {
    this.pump();
  }

  /** The centre stored these events. */
  acked(ids: readonly string[]): void {
    const n = this.outbox.ack(ids);
    this.outstanding = Math.max(0, this.outstanding - n);
    clearTimeout(this.resendTimer);
    this.resendTimer = undefined;
    this.pump();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.resendTimer);
    this.resendTimer = undefined;
  }

  private pump(): void {
    if (this.closed || !this.link.isOpen) return;
    while (this.outstanding < this.window) {
      const batch: GatewayEvent[] = this.outbox.pending(Math.min(MAX_EVENTS_PER_MESSAGE, this.window - this.outstanding), this.sentUpTo);
      if (batch.length === 0) break;
      if (!this.link.send({ type: 'events', events: batch })) {
        this.log.warn({ first: batch[0].seq, count: batch.length }, 'events could not be sent; they stay in the outbox');
        break;
      }
      this.sentUpTo = batch[batch.length - 1].seq;
      this.outstanding += batch.length;
    }
    if (this.outstanding > 0 && !this.resendTimer) {
      this.resendTimer = setTimeout(() => {
        this.resendTimer = undefined;
        if (this.closed || !this.link.isOpen) return;
        this.log.info({ outstanding: this.outstanding }, 'no ack from the centre; sending unacked events again');
        this.linkUp();
      }, this.resendAfterMs);
    }
  }
}
