import type { Permission, CameraPermission } from './policy';

/**
 * How a route is reached. Every route declares one in `config.access`; the centre refuses to
 * start with a route that has none, and the authorization matrix test has an expectation
 * for each, so no route can be added without deciding who may call it.
 */
export type RouteAccess =
  /** Anyone: the page's static files, liveness/readiness, the API document. */
  | { kind: 'public' }
  /** `POST /api/session`: anyone, with its own brute-force protection. */
  | { kind: 'sign-in' }
  /** Gateway enrolment: authenticated by the one-time token in the body, not by a session. */
  | { kind: 'enrolment-token' }
  /** The gateway link: authenticated by the gateway's secret on the upgrade. */
  | { kind: 'gateway-secret' }
  /** Prometheus scrape: the metrics bearer token. */
  | { kind: 'metrics-token' }
  /**
   * A signed-in account. With `permission`, the role must hold it (else 403); without, any
   * role may call and the handler filters by scope (camera lists) or decides per resource.
   */
  | { kind: 'session'; permission?: Exclude<Permission, CameraPermission> };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}
