import { runProcess } from '@one-time/core';
import { startApi } from './start-api.ts';

await runProcess(startApi, (api) => `one-time API listening on ${api.url} (links use ${api.publicUrl})`);
