export type { AppRouter } from './trpc/router.ts';
export { appRouter } from './trpc/router.ts';
export { createCallerFactory, type TrpcContext } from './trpc/trpc.ts';
