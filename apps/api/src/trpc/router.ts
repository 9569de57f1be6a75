import { fileInfo } from './procedures/file-info.ts';
import { fileRevoke } from './procedures/file-revoke.ts';
import { serverHealth } from './procedures/server-health.ts';
import { serverLimits } from './procedures/server-limits.ts';
import { router } from './trpc.ts';

export const appRouter = router({
  file: router({ info: fileInfo, revoke: fileRevoke }),
  server: router({ limits: serverLimits, health: serverHealth }),
});

/** The API's type, imported type-only by clients. */
export type AppRouter = typeof appRouter;
