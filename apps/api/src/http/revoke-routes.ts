import { Router } from 'express';
import { AppError } from '@one-time/core';
import type { RevokeService } from '@one-time/service';

/** `DELETE /files/:code` with the delete token in `X-Delete-Token` (or `Authorization: Bearer <token>`). */
export function revokeRoutes(revokes: RevokeService): Router {
  const router = Router();
  router.delete('/files/:code', async (req, res) => {
    const token = req.get('x-delete-token') ?? /^Bearer (\S+)$/.exec(req.get('authorization') ?? '')?.[1];
    if (!token || token.length > 256) throw new AppError('FORBIDDEN', 'Send the delete token in the X-Delete-Token header.');
    await revokes.revoke(req.params.code, token);
    res.status(204).end();
  });
  return router;
}
