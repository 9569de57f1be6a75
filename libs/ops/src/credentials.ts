import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '@one-time/core';

export interface Credentials {
  /** Accepted as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** Accepted as HTTP basic auth, which browsers prompt for. */
  readonly basic?: { readonly user: string; readonly password: string } | undefined;
}

/**
 * 401 (through the app's error handler, with a `WWW-Authenticate` challenge) unless the request carries one of
 * the configured credentials. Comparisons take the same time whatever the guess. With no credential configured
 * nothing gets through.
 */
export function requireCredentials(credentials: Credentials, realm: string): RequestHandler {
  const challenge = credentials.basic ? `Basic realm="${realm}", charset="UTF-8"` : `Bearer realm="${realm}"`;
  return (req, res, next) => {
    if (isAuthorized(req.headers.authorization, credentials)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', challenge);
    next(new AppError('UNAUTHORIZED'));
  };
}

export function isAuthorized(header: string | undefined, credentials: Credentials): boolean {
  if (header === undefined || header.length > 1024) return false;
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  switch (scheme.toLowerCase()) {
    case 'bearer':
      return credentials.token !== undefined && sameSecret(value, credentials.token);
    case 'basic': {
      if (!credentials.basic) return false;
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      // Both compared, always: the answer's timing says nothing about which one was wrong.
      const userMatches = sameSecret(decoded.slice(0, colon), credentials.basic.user);
      const passwordMatches = sameSecret(decoded.slice(colon + 1), credentials.basic.password);
      return userMatches && passwordMatches;
    }
    default:
      return false;
  }
}

/** Digests first, so the comparison's length and time do not depend on the secret's length. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
