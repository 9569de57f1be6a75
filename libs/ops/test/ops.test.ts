import { describe, expect, it } from 'vitest';
import { checkReadiness, isAuthorized, isProbe } from '../src/index.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('isAuthorized', () => {
  const credentials = { token: 't'.repeat(24), basic: { user: 'ops', password: 'p'.repeat(16) } };

  it('accepts the configured bearer token or basic credentials', () => {
    expect(isAuthorized(`Bearer ${'t'.repeat(24)}`, credentials)).toBe(true);
    expect(isAuthorized(`bearer ${'t'.repeat(24)}`, credentials)).toBe(true);
    expect(isAuthorized(basic('ops', 'p'.repeat(16)), credentials)).toBe(true);
  });

  it('refuses anything else', () => {
    expect(isAuthorized(undefined, credentials)).toBe(false);
    expect(isAuthorized('Bearer ', credentials)).toBe(false);
    expect(isAuthorized(`Bearer ${'t'.repeat(23)}`, credentials)).toBe(false);
    expect(isAuthorized(basic('ops', 'p'.repeat(15)), credentials)).toBe(false);
    expect(isAuthorized(basic('root', 'p'.repeat(16)), credentials)).toBe(false);
    expect(isAuthorized('Basic not-base64-at-all', credentials)).toBe(false);
    expect(isAuthorized(`Token ${'t'.repeat(24)}`, credentials)).toBe(false);
  });

  it('lets nothing through when no credential is configured', () => {
    expect(isAuthorized('Bearer ', {})).toBe(false);
    expect(isAuthorized(basic('', ''), {})).toBe(false);
  });
});

describe('checkReadiness', () => {
  it('names each dependency that fails or does not answer in time', async () => {
    const readiness = await checkReadiness(
      {
        mongodb: () => new Promise(() => undefined), // hangs
        redis: () => Promise.reject(new Error('ECONNREFUSED')),
        storage: () => Promise.resolve(),
      },
      200,
    );
    expect(readiness).toEqual({
      ready: false,
      down: ['mongodb', 'redis'],
      checks: { mongodb: 'down', redis: 'down', storage: 'up' },
    });
  });

  it('is ready when every dependency answers', async () => {
    const readiness = await checkReadiness({ a: () => Promise.resolve(), b: () => Promise.resolve() });
    expect(readiness.ready).toBe(true);
    expect(readiness.down).toEqual([]);
  });
});

describe('isProbe', () => {
  it('knows the probe paths, whatever the case or query', () => {
    expect(isProbe('/healthz')).toBe(true);
    expect(isProbe('/READYZ?x=1')).toBe(true);
    expect(isProbe('/metrics')).toBe(true);
    expect(isProbe('/download/abc')).toBe(false);
  });
});
