/**
 * The logging surface the RTSP client and server need. It matches pino's
 * `(fields, message)` call shape, so an app passes `logger.child({ module: 'gateway:rtsp' })`.
 * Fields never carry credentials: Authorization headers and URL userinfo are not logged.
 */
export interface RtspLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Default logger: drops everything. */
export const silentLogger: RtspLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
