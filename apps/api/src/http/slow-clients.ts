import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import { AppError, errorBody, type Config } from '@one-time/core';

/**
 * Applies the connection limits: headers must arrive within `headersMs`, and a connection on which nothing
 * moves (no byte in, none out) for `idleMs` is cut. Not a total time limit: a 2 GiB upload on a slow link
 * keeps moving and is never cut. A stalled request that has no answer yet gets a 408 first.
 */
export function limitSlowClients(server: Server, connections: Config['connections']): void {
  server.headersTimeout = connections.headersMs;
  server.requestTimeout = 0; // a total limit would cut large transfers on slow links
  server.setTimeout(connections.idleMs);
  const answering = new WeakMap<Socket, ServerResponse>();
  server.on('request', (req, res: ServerResponse) => {
    answering.set(req.socket, res);
    res.once('close', () => answering.delete(req.socket));
  });
  server.on('timeout', (socket: Socket) => {
    const res = answering.get(socket);
    if (res && !res.headersSent && socket.writable) {
      const body = JSON.stringify(
        errorBody(new AppError('UPLOAD_TIMEOUT', 'The request stalled: nothing arrived for too long.')),
      );
      socket.end(
        `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  });
}

/**
 * At most `limit` uploads in flight per client IP (per API process): a client that opens many slow uploads
 * cannot take every connection. Over it: 429 through the one error path.
 */
export function uploadsInFlight(limit: number): RequestHandler {
  const inFlight = new Map<string, number>();
  return (req, res, next) => {
    if (req.method !== 'POST' && req.method !== 'PUT') {
      next();
      return;
    }
    const client = req.ip ?? 'unknown';
    const count = inFlight.get(client) ?? 0;
    if (count >= limit) {
      next(
        new AppError('RATE_LIMITED', `At most ${limit} uploads at a time from one address.`, {
          details: { retryAfterSeconds: 1 },
        }),
      );
      return;
    }
    inFlight.set(client, count + 1);
    res.once('close', () => {
      const left = (inFlight.get(client) ?? 1) - 1;
      if (left > 0) inFlight.set(client, left);
      else inFlight.delete(client);
    });
    next();
  };
}
