import { TRPCError, initTRPC } from '@trpc/server';
import { ERROR_TABLE, isAppError, type Config, type ErrorCode } from '@one-time/core';
import type { DownloadService, RevokeService } from '@one-time/service';

export interface TrpcContext {
  readonly config: Config;
  readonly downloads: DownloadService;
  readonly revokes: RevokeService;
  readonly startedAt: Date;
}

const t = initTRPC.context<TrpcContext>().create({
  // Never a stack, a path or an internal message in an answer, whatever NODE_ENV says.
  isDev: false,
  // Clients get the same error code the REST API sends, next to tRPC's own.
  errorFormatter: ({ shape, error }) => {
    const { stack: _stack, ...data } = shape.data;
    const internal = shape.data.code === 'INTERNAL_SERVER_ERROR' && !isAppError(error.cause);
    return {
      ...shape,
      message: internal ? ERROR_TABLE.INTERNAL.message : shape.message,
      data: { ...data, appCode: isAppError(error.cause) ? (error.cause.code satisfies ErrorCode) : null },
    };
  },
});

/** Domain errors become tRPC errors through the same table that gives REST its statuses. */
const mapAppErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isAppError(result.error.cause)) {
    const cause = result.error.cause;
    throw new TRPCError({ code: ERROR_TABLE[cause.code].trpc, message: cause.message, cause });
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(mapAppErrors);
export const createCallerFactory = t.createCallerFactory;
