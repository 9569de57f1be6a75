import { runProcess } from '@one-time/core';
import { startWorker } from './start-worker.ts';

await runProcess(startWorker, () => 'one-time worker running');
