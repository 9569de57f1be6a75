import { pino, type Logger } from 'pino';
import type { Config } from './config.ts';

/** JSON logs; `err` is serialised with its cause chain. Callers never pass codes or tokens. */
export function createLogger(name: string, level: Config['logLevel']): Logger {
  return pino({ name, level, base: { service: name } });
}
