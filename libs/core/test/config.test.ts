import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.ts';

describe('loadConfig', () => {
  it('defaults to the local services', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.opsPort).toBe(3001);
    expect(config.publicUrl).toBeUndefined();
    expect(config.mongo.url).toBe('mongodb://127.0.0.1:27017');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.azure.connectionString).toContain('127.0.0.1:10000');
    expect(config.limits).toEqual({
      maxUploadBytes: 2 * 1024 ** 3,
      maxFilesPerUpload: 100,
      ttlDefaultMs: 24 * 3_600_000,
      ttlMaxMs: 7 * 86_400_000,
      downloadsDefault: 1,
      downloadsMax: 100,
    });
  });

  it('reads units and strips a trailing slash from PUBLIC_URL', () => {
    const config = loadConfig({ MAX_UPLOAD_SIZE: '512MiB', TTL_MAX: '30d', PUBLIC_URL: 'https://files.example.org/' });
    expect(config.limits.maxUploadBytes).toBe(512 * 1024 ** 2);
    expect(config.limits.ttlMaxMs).toBe(30 * 86_400_000);
    expect(config.publicUrl).toBe('https://files.example.org');
  });

  it('names every bad variable', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', TTL_DEFAULT: 'soon', MONGO_URL: 'postgres://x' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toContain('PORT');
      expect(problems).toContain('TTL_DEFAULT');
      expect(problems).toContain('MONGO_URL');
    }
  });

  it('refuses a default above its cap', () => {
    expect(() => loadConfig({ DOWNLOADS_DEFAULT: '5', DOWNLOADS_MAX: '3' })).toThrow(/DOWNLOADS_DEFAULT/);
  });
});
