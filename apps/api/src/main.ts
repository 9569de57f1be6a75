import { ConfigError, loadConfig } from '@one-time/core';
import { startApi } from './start-api.ts';

try {
  const config = loadConfig(process.env);
  const api = await startApi(config);
  process.stdout.write(`one-time API listening on ${api.url} (links use ${api.publicUrl})\n`);
  const stop = () => {
    api.close().then(
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
