import { type Config, ConfigError, loadConfig } from './config.ts';

/** Beyond the configured shutdown timeout, the extra time `close()` gets to close connections before the exit. */
const CLOSE_GRACE_MS = 10_000;

/**
 * The shared `main` of the API and the worker: parse the environment once, start, print a one-line banner,
 * close gracefully on SIGTERM/SIGINT and exit 0, and exit 1 with the configuration problems (or the start-up
 * error) if it cannot start. A second signal, or a `close()` that overruns the shutdown timeout, exits 1 at once.
 */
export async function runProcess<T extends { close(): Promise<void> }>(
  start: (config: Config) => Promise<T>,
  banner: (running: T) => string,
): Promise<void> {
  try {
    const config = loadConfig(process.env);
    const running = await start(config);
    process.stdout.write(`${banner(running)}\n`);
    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(1); // asked twice: the operator wants it gone now
      stopping = true;
      setTimeout(() => {
        process.stderr.write('shutdown took too long; exiting\n');
        process.exit(1);
      }, config.ops.shutdownTimeoutMs + CLOSE_GRACE_MS).unref();
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`shutdown failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
