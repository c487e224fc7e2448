import pino from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level: string;
  pretty?: boolean;
}

/** Secrets and passwords must never reach the logs, whatever object carries them. */
export const REDACT_PATHS = [
  'password',
  'secret',
  '*.password',
  '*.secret',
  '*.currentPassword',
  '*.newPassword',
  '*.csrfToken',
  'headers.authorization',
  'headers.cookie',
  'headers["x-csrf-token"]',
  'headers["set-cookie"]',
];

export function createLogger(options: LoggerOptions, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'powerwatch' },
    },
    destination ?? (options.pretty ? pino.transport({ target: 'pino-pretty' }) : pino.destination({ sync: false })),
  );
}

/** A logger that discards everything, for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
