/**
 * What pino never writes: cookies, passwords, tokens, secrets and one-time codes, wherever a
 * log call puts them (request headers, error details, objects logged whole).
 */
export const LOG_REDACT = {
  paths: [
    'req.headers.cookie',
    'req.headers.authorization',
    'req.headers["x-csrf-token"]',
    'res.headers["set-cookie"]',
    'headers.cookie',
    'headers.authorization',
    'password',
    'secret',
    'token',
    'totp',
    'csrfToken',
    'cookie',
    '*.password',
    '*.secret',
    '*.token',
    '*.totp',
    '*.csrfToken',
    '*.cookie',
    '*.authorization',
  ],
  censor: '[redacted]',
};
