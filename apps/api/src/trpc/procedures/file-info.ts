import { z } from 'zod';
import { publicProcedure } from '../trpc.ts';

export const fileInfoInput = z.object({ code: z.string().min(1).max(64) });
export const fileInfoOutput = z.object({
  available: z.literal(true),
  name: z.string(),
  contentType: z.string(),
  /** Null for several files, served as a zip built while it streams. */
  size: z.number().int().nonnegative(),
  expiresAt: z.iso.datetime(),
  downloadsLeft: z.number().int().nonnegative(),
  /** A file its sender encrypted: the sealed metadata, opened by the key in the link's fragment. */
  e2e: z.object({ meta: z.string() }).nullable(),
});

/** What a code points at, decrypted with the code; never consumes a download. Unavailable: NOT_FOUND. */
export const fileInfo = publicProcedure
  .input(fileInfoInput)
  .output(fileInfoOutput)
  .query(async ({ ctx, input }) => {
    const meta = await ctx.downloads.peek(input.code);
    return {
      available: true as const,
      name: meta.fileName,
      contentType: meta.contentType,
      size: meta.size,
      expiresAt: meta.expiresAt.toISOString(),
      downloadsLeft: meta.downloadsLeft,
      e2e: meta.e2eMeta === undefined ? null : { meta: meta.e2eMeta },
    };
  });
