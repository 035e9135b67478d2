/** The logging surface the simulator's servers need: a pino-compatible subset. Never given credentials. */
export interface SimLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** Drops everything: the default when no logger is given. */
export const silentSimLogger: SimLogger = { debug: () => {}, warn: () => {} };
