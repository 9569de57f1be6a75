import { type Config, ConfigError, loadConfig } from './config.ts';

/**
 * The shared `main` of the API and the worker: parse the environment once, start, print a one-line banner,
 * close cleanly on SIGTERM/SIGINT, and exit 1 with the configuration problems (or the start-up error) if it
 * cannot start.
 */
export async function runProcess<T extends { close(): Promise<void> }>(
  start: (config: Config) => Promise<T>,
  banner: (running: T) => string,
): Promise<void> {
  try {
    const running = await start(loadConfig(process.env));
    process.stdout.write(`${banner(running)}\n`);
    const stop = () => {
      running.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
