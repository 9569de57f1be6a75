import { ConfigError, loadConfig } from '@one-time/core';
import { startWorker } from './start-worker.ts';

try {
  const config = loadConfig(process.env);
  const worker = await startWorker(config);
  process.stdout.write('one-time worker running\n');
  const stop = () => {
    worker.close().then(
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
