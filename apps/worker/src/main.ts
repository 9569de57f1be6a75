import { runProcess } from '@one-time/core';
import { startWorker } from './start-worker.ts';

await runProcess(startWorker, (worker) => `one-time worker running (ops port ${worker.opsUrl})`);
