import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/index.ts';

describe('loadConfig', () => {
  it('defaults to the embedded stores in .data/store and the local Redis', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.opsPort).toBe(3001);
    expect(config.publicUrl).toBeUndefined();
    expect(config.metadata).toEqual({ kind: 'sqlite', path: resolve('.data/store/metadata.sqlite') });
    expect(config.blobs).toEqual({ kind: 'filesystem', root: resolve('.data/store/blobs') });
    expect(config.dataDir).toEqual({ path: resolve('.data/store'), create: true });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.limits).toEqual({
      maxUploadBytes: 2 * 1024 ** 3,
      maxFilesPerUpload: 100,
      ttlMinMs: 60_000,
      ttlDefaultMs: 24 * 3_600_000,
      ttlMaxMs: 7 * 86_400_000,
      downloadsDefault: 1,
      downloadsMax: 100,
    });
  });

  it('picks each store by its variable; a set DATA_DIR must exist, and is not needed by the scale-out stores', () => {
    const scaleOut = loadConfig({ METADATA_STORE: 'mongodb', BLOB_STORE: 'azure', DATA_DIR: '/nowhere' });
    expect(scaleOut.metadata).toEqual({ kind: 'mongodb', url: 'mongodb://127.0.0.1:27017', database: 'one-time' });
    expect(scaleOut.blobs).toMatchObject({ kind: 'azure', container: 'one-time-files' });
    expect(scaleOut.dataDir).toBeUndefined();
    const mixed = loadConfig({ METADATA_STORE: 'mongodb', DATA_DIR: '/srv/one-time' });
    expect(mixed.blobs).toEqual({ kind: 'filesystem', root: '/srv/one-time/blobs' });
    expect(mixed.dataDir).toEqual({ path: '/srv/one-time', create: false });
    expect(() => loadConfig({ METADATA_STORE: 'postgres', BLOB_STORE: 's3' })).toThrow(
      /METADATA_STORE: must be sqlite or mongodb[\s\S]*BLOB_STORE: must be filesystem or azure/,
    );
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

describe('operations settings', () => {
  it('defaults to a closed dashboard, no metrics token and a 30 s shutdown', () => {
    const { ops } = loadConfig({});
    expect(ops).toEqual({
      shutdownTimeoutMs: 30_000,
      metricsToken: undefined,
      dashboard: { enabled: false, actions: false, basic: undefined, token: undefined },
    });
  });

  it('refuses the dashboard without a credential', () => {
    expect(() => loadConfig({ DASHBOARD_ENABLED: 'true' })).toThrow(/DASHBOARD_ENABLED: the dashboard needs/);
    expect(() => loadConfig({ DASHBOARD_ENABLED: 'true', DASHBOARD_TOKEN: '' })).toThrow(/DASHBOARD_ENABLED/);
    expect(() => loadConfig({ DASHBOARD_ENABLED: 'true', DASHBOARD_USER: 'ops' })).toThrow(/DASHBOARD_USER, DASHBOARD_PASSWORD/);
  });

  it('takes basic auth or a token, and refuses short secrets', () => {
    const basic = loadConfig({ DASHBOARD_ENABLED: 'true', DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'a-long-enough-secret' });
    expect(basic.ops.dashboard).toEqual({
      enabled: true,
      actions: false,
      basic: { user: 'ops', password: 'a-long-enough-secret' },
      token: undefined,
    });
    const token = loadConfig({ DASHBOARD_ENABLED: 'true', DASHBOARD_TOKEN: 'x'.repeat(32), DASHBOARD_ACTIONS: 'true' });
    expect(token.ops.dashboard.actions).toBe(true);
    expect(() => loadConfig({ DASHBOARD_TOKEN: 'short' })).toThrow(/DASHBOARD_TOKEN: must be at least 16/);
    expect(() => loadConfig({ METRICS_TOKEN: 'has a space in it somewhere' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ DASHBOARD_USER: 'a:b', DASHBOARD_PASSWORD: 'x'.repeat(16) })).toThrow(/DASHBOARD_USER/);
  });

  it('reads flags strictly and the shutdown timeout as a duration', () => {
    expect(() => loadConfig({ DASHBOARD_ACTIONS: 'yes' })).toThrow(/DASHBOARD_ACTIONS: must be true or false/);
    expect(loadConfig({ SHUTDOWN_TIMEOUT: '2m' }).ops.shutdownTimeoutMs).toBe(120_000);
    expect(loadConfig({ METRICS_TOKEN: 'm'.repeat(20) }).ops.metricsToken).toBe('m'.repeat(20));
  });

  it('lists every variable it reads', () => {
    expect(CONFIG_VARIABLES).toContain('OPS_PORT');
    expect(CONFIG_VARIABLES).toContain('DASHBOARD_TOKEN');
    expect(CONFIG_VARIABLES).toContain('SHUTDOWN_TIMEOUT');
    expect(CONFIG_VARIABLES).not.toContain('NODE_ENV');
  });
});
