import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';

export type { DestinationStream, Logger };

/** JSON logs to stdout (or `destination`); `err` is serialised with its cause chain. Never given codes or tokens. */
export function createLogger(name: string, level: Config['logLevel'], destination?: DestinationStream): Logger {
  const options = { name, level, base: { service: name } };
  return destination ? pino(options, destination) : pino(options);
}
