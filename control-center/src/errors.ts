/** Typed errors of the control centre; mapped to HTTP statuses once, in the fastify error handler. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
  }
}

export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`, 404);
export const unauthorized = (): AppError => new AppError('UNAUTHORIZED', 'missing or invalid credentials', 401);
