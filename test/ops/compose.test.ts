import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '@one-time/core';

/** No Docker engine here: the compose file and the Dockerfiles are checked as text against what the apps read. */
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const readme = readFileSync('README.md', 'utf8');

/** What the app would see: `${X:-default}` as its default, `${X:?message}` as some valid value. */
function resolved(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replace(/\$\{[A-Z_]+:\?[^}]*\}/g, 'a-password-long-enough'),
    ]),
  );
}

describe('docker-compose.yml', () => {
  it('runs mongo, redis and azurite from official images, and the api and the worker from this repository', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'azurite', 'mongo', 'redis', 'worker']);
    expect(services.mongo!.image).toMatch(/^mongo:/);
    expect(services.redis!.image).toMatch(/^redis:/);
    expect(services.azurite!.image).toMatch(/^mcr\.microsoft\.com\/azure-storage\/azurite/);
    expect(services.api!.build).toEqual({ context: '.', target: 'api', args: { APP: 'api' } });
    expect(services.worker!.build).toEqual({ context: '.', target: 'worker', args: { APP: 'worker' } });
  });

  it('gives every service a health check, and starts the apps only once their dependencies are healthy', () => {
    for (const [name, service] of Object.entries(services)) expect(service.healthcheck?.test.length, name).toBeGreaterThan(0);
    for (const app of ['api', 'worker']) {
      expect(services[app]!.depends_on).toEqual({
        mongo: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        azurite: { condition: 'service_healthy' },
      });
      expect(services[app]!.healthcheck!.test.join(' ')).toContain('/readyz');
    }
  });

  it('sets only variables the apps read, with values their config accepts', () => {
    for (const app of ['api', 'worker']) {
      const environment = services[app]!.environment!;
      const unknown = Object.keys(environment).filter((name) => !CONFIG_VARIABLES.includes(name));
      expect(unknown, app).toEqual([]);
      expect(() => loadConfig(resolved(environment))).not.toThrow();
    }
    // The dashboard is on, so the worker needs its password: compose refuses to start without one.
    expect(services.worker!.environment!.DASHBOARD_PASSWORD).toMatch(/^\$\{DASHBOARD_PASSWORD:\?/);
  });

  it('publishes the ports the apps listen on', () => {
    const api = loadConfig(resolved(services.api!.environment!));
    const worker = loadConfig(resolved(services.worker!.environment!));
    const containerPort = (mapping: string) => Number(mapping.split(':').at(-1));
    expect(services.api!.ports!.map(containerPort)).toEqual([api.port]);
    expect(services.worker!.ports!.map(containerPort)).toEqual([worker.opsPort]);
    expect(api.host).toBe('0.0.0.0');
    expect(worker.host).toBe('0.0.0.0');
    expect(services.api!.healthcheck!.test.join(' ')).toContain(`:${api.port}/`);
    expect(services.worker!.healthcheck!.test.join(' ')).toContain(`:${worker.opsPort}/`);
    // Docker waits longer than the apps' own shutdown timeout before it kills them.
    const graceSeconds = Number(/^(\d+)s$/.exec(services.api!.stop_grace_period!)![1]);
    expect(graceSeconds * 1000).toBeGreaterThan(api.ops.shutdownTimeoutMs);
  });

  it('runs the scale-out stores and reaches them by their compose names', () => {
    const config = loadConfig(resolved(services.api!.environment!));
    expect(config.metadata).toEqual({ kind: 'mongodb', url: 'mongodb://mongo:27017', database: 'one-time' });
    expect(config.redis.url).toBe('redis://redis:6379');
    expect(config.blobs).toMatchObject({ kind: 'azure', container: 'one-time-files' });
    expect(config.blobs.kind === 'azure' && config.blobs.connectionString).toContain('BlobEndpoint=http://azurite:10000/');
    expect(config.dataDir).toBeUndefined();
  });
});

describe('the Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  /** The lines of one stage, from its FROM to the next. */
  const stage = (name: string) => {
    const start = dockerfile.search(new RegExp(`^FROM \\S+ AS ${name}$`, 'm'));
    const next = dockerfile.slice(start + 1).search(/^FROM /m);
    return dockerfile.slice(start, next === -1 ? undefined : start + 1 + next);
  };

  it('builds in stages on Node 24, installs production dependencies only, and runs as a non-root user', () => {
    expect(dockerfile.match(/^FROM node:24/gm)!.length).toBeGreaterThanOrEqual(3);
    expect(stage('deps')).toContain('npm ci --omit=dev --workspace @one-time/${APP}');
    expect(stage('runtime')).toMatch(/^USER node$/m);
    expect(stage('runtime')).toContain('COPY --from=deps');
  });

  for (const app of ['api', 'worker']) {
    it(`has a ${app} target on the shared runtime, with its health check and entry point`, () => {
      expect(stage(app)).toMatch(new RegExp(`^FROM runtime AS ${app}$`, 'm'));
      expect(stage(app)).toMatch(/^HEALTHCHECK /m);
      expect(stage(app)).toContain(`apps/${app}/src/main.ts`);
    });
  }

  it('builds the web page into the API image only', () => {
    expect(stage('web')).toContain('npm run build');
    expect(stage('api')).toContain('COPY --from=web --chown=root:root /app/apps/web/dist /app/apps/web/dist');
    expect(stage('worker')).not.toContain('apps/web/dist');
  });
});

describe('the README operations section', () => {
  const operations = readme.slice(readme.indexOf('## Operations'));

  it('exists, and its table lists every variable the apps read', () => {
    expect(readme).toContain('## Operations');
    const listed = [...operations.matchAll(/^\| `([A-Z_]+)`/gm)].map((match) => match[1]);
    expect([...CONFIG_VARIABLES].sort()).toEqual([...new Set(listed)].sort());
  });

  it('says which parts were not run here', () => {
    expect(readme).toMatch(/not run here/i);
    expect(operations).toMatch(/docker compose/i);
  });
});
