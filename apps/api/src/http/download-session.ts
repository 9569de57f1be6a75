import type { Request, Response } from 'express';
import type { DownloadSession } from '@one-time/service';

/** Programs read the session from this header and send it back in it; browsers use the cookie. */
export const SESSION_HEADER = 'One-Time-Session';
export const SESSION_EXPIRES_HEADER = 'One-Time-Session-Expires';
export const SESSION_COOKIE = 'one_time_session';

/** The session secret a request presents: the header first, else the cookie (scoped to this download's path). */
export function sessionSecretFrom(req: Request): string | undefined {
  const header = req.get(SESSION_HEADER);
  if (header !== undefined && header !== '') return header.trim();
  for (const pair of (req.get('cookie') ?? '').split(';')) {
    const [name, ...value] = pair.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

/**
 * Hands a new session to the claimant: a cookie only this download's path receives (HttpOnly, SameSite=Strict,
 * Secure behind HTTPS), so a browser's download manager resumes with it; and headers for programs.
 */
export function sendSession(req: Request, res: Response, code: string, session: DownloadSession, now: Date): void {
  const maxAge = Math.max(0, Math.floor((session.until.getTime() - now.getTime()) / 1000));
  const attributes = [
    `Path=/download/${code}`,
    `Max-Age=${maxAge}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(req.secure ? ['Secure'] : []),
  ];
  res.append('Set-Cookie', `${SESSION_COOKIE}=${session.secret}; ${attributes.join('; ')}`);
  res.setHeader(SESSION_HEADER, session.secret);
  res.setHeader(SESSION_EXPIRES_HEADER, session.until.toISOString());
}
