import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Live figures the gauges read when scraped. */
export interface LiveFigures {
  gatewaysOnline(): number;
  feeds(): number;
  viewers(): number;
  viewerSockets(): number;
}

/**
 * The centre's Prometheus metrics, on a registry of its own (several centres can run in one
 * test process): Node's default process metrics, plus sign-ins, view starts, refusals, audit
 * write failures, and live gauges for gateways, feeds and viewers.
 */
export class CentreMetrics {
  readonly registry = new Registry();
  readonly logins: Counter<'outcome'>;
  readonly viewStarts: Counter;
  readonly refusals: Counter<'code' | 'channel'>;
  readonly auditWriteFailures: Counter;
  readonly linkMessagesDropped: Counter;

  constructor(figures: LiveFigures) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.logins = new Counter({ name: 'schoolcam_logins_total', help: 'Sign-in attempts by outcome.', labelNames: ['outcome'], registers });
    this.viewStarts = new Counter({ name: 'schoolcam_view_starts_total', help: 'Live views started.', registers });
    this.refusals = new Counter({
      name: 'schoolcam_access_refusals_total',
      help: 'Requests and viewer messages refused by the access policy, by code and channel.',
      labelNames: ['code', 'channel'],
      registers,
    });
    this.auditWriteFailures = new Counter({ name: 'schoolcam_audit_write_failures_total', help: 'Audit entries that could not be written.', registers });
    this.linkMessagesDropped = new Counter({ name: 'schoolcam_link_messages_dropped_total', help: 'Gateway link messages dropped by the rate limit.', registers });
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    gauge('schoolcam_gateways_online', 'Gateways with a live link.', () => figures.gatewaysOnline());
    gauge('schoolcam_feeds', 'Camera upstreams being relayed.', () => figures.feeds());
    gauge('schoolcam_viewers', 'Viewer peer connections.', () => figures.viewers());
    gauge('schoolcam_viewer_sockets', 'Open viewer (dashboard) sockets.', () => figures.viewerSockets());
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
