import { z } from 'zod';
import { publicProcedure } from '../trpc.ts';

export const fileRevokeInput = z.object({ code: z.string().min(1).max(64), deleteToken: z.string().min(1).max(256) });
export const fileRevokeOutput = z.object({ revoked: z.literal(true) });

/** Makes the file unavailable at once and queues its purge. Wrong token: FORBIDDEN; unknown code: NOT_FOUND. */
export const fileRevoke = publicProcedure
  .input(fileRevokeInput)
  .output(fileRevokeOutput)
  .mutation(async ({ ctx, input }) => {
    await ctx.revokes.revoke(input.code, input.deleteToken);
    return { revoked: true as const };
  });
