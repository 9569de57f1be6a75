import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

/**
 * `Expect: 100-continue`: the client waits for a go-ahead before it sends the body. Node would send it at once;
 * instead requests are marked here and the go-ahead waits until the request was checked (rate limits, the
 * declared length, the query), so a refused upload is answered before a byte of its body travels.
 */
const waiting = new WeakSet<IncomingMessage>();

/** For `server.on('checkContinue', …)`: hands the request to the app without sending `100 Continue` yet. */
export function deferContinue(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    waiting.add(req);
    handle(req, res);
  };
}

/** Sends `100 Continue` if the client is waiting for it; a no-op otherwise, and the second time. */
export function allowBody(req: IncomingMessage, res: ServerResponse): void {
  if (!waiting.delete(req) || res.headersSent) return;
  res.writeContinue();
}

/** Every route but the uploads reads its (small) body without checks of its own: let it come at once. */
export function continueUnlessUpload(): RequestHandler {
  return (req, res, next) => {
    if (!req.path.toLowerCase().startsWith('/upload')) allowBody(req, res);
    next();
  };
}
