import { z } from 'zod';
import { publicProcedure } from '../trpc.ts';

export const serverHealthOutput = z.object({ status: z.literal('ok'), uptimeSeconds: z.number().nonnegative() });

/** The API process answers (dependency readiness is the operations endpoints' job). */
export const serverHealth = publicProcedure.output(serverHealthOutput).query(({ ctx }) => ({
  status: 'ok' as const,
  uptimeSeconds: Math.round((Date.now() - ctx.startedAt.getTime()) / 1000),
}));
