import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stderr. Never pass a token, signature, key or claim value other than
 * sub/iss/jti to a log call; the redact list is a second line of defence.
 */
export function createLogger(level: string = process.env.CLAIMCHECK_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { service: 'claimcheck' },
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'key', '*.key'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** A silent logger for unit tests and offline commands. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
