import { z } from 'zod';
import { publicProcedure } from '../trpc.ts';

export const serverLimitsOutput = z.object({
  maxUploadBytes: z.number().int().positive(),
  maxFilesPerUpload: z.number().int().positive(),
  ttlDefaultSeconds: z.number().int().positive(),
  ttlMaxSeconds: z.number().int().positive(),
  downloadsDefault: z.number().int().positive(),
  downloadsMax: z.number().int().positive(),
  /** Empty: every type not denied. */
  allowedTypes: z.array(z.string()),
  deniedTypes: z.array(z.string()),
});

/** The rules an upload must follow, so clients can check before sending. */
export const serverLimits = publicProcedure.output(serverLimitsOutput).query(({ ctx }) => {
  const { limits, types } = ctx.config;
  return {
    maxUploadBytes: limits.maxUploadBytes,
    maxFilesPerUpload: limits.maxFilesPerUpload,
    ttlDefaultSeconds: Math.round(limits.ttlDefaultMs / 1000),
    ttlMaxSeconds: Math.round(limits.ttlMaxMs / 1000),
    downloadsDefault: limits.downloadsDefault,
    downloadsMax: limits.downloadsMax,
    allowedTypes: [...types.allowed],
    deniedTypes: [...types.denied],
  };
});
