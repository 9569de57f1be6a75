import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from '../support/stack.ts';
import { downloadHash, uploadJson } from '../support/http.ts';

const USER = 'operator';
const PASSWORD = 'correct-horse-battery-staple';
const TOKEN = 'dashboard-bearer-token-0123456789';
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

interface QueuesAnswer {
  queues: Array<{ name: string; readOnlyMode: boolean; jobs: Array<{ name: string; data: unknown; returnValue: unknown }> }>;
}

describe('the worker dashboard, read-only', () => {
  let stack: Stack;
  let dashboard: string;

  beforeAll(async () => {
    stack = await startStack({
      env: { DASHBOARD_ENABLED: 'true', DASHBOARD_USER: USER, DASHBOARD_PASSWORD: PASSWORD, DASHBOARD_TOKEN: TOKEN },
    });
    dashboard = `${stack.worker!.opsUrl}/dashboard`;
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('answers 401 with a basic challenge without the right credentials', async () => {
    for (const headers of [
      {},
      basic(USER, 'wrong-password-wrong'),
      basic('root', PASSWORD),
      { authorization: 'Bearer nope-nope-nope-nope' },
    ]) {
      const response = await fetch(dashboard, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Basic realm="one-time dashboard", charset="UTF-8"');
    }
    // The API behind it is covered too, not only the page.
    expect((await fetch(`${dashboard}/api/queues`)).status).toBe(401);
  });

  it('shows the purge queue, with the sweeper, to basic auth or the bearer token', async () => {
    const page = await fetch(dashboard, { headers: basic(USER, PASSWORD) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    expect((await fetch(dashboard, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);

    const sent = await uploadJson(stack.url, [{ field: 'file', filename: 'secret-name.txt', content: 'hello' }]);
    let answer: QueuesAnswer | undefined;
    const seen = await eventually(async () => {
      const response = await fetch(`${dashboard}/api/queues?activeQueue=purge&status=delayed&page=1`, {
        headers: basic(USER, PASSWORD),
      });
      answer = (await response.json()) as QueuesAnswer;
      return answer.queues[0]?.jobs.some((job) => job.name === 'expire-due') ?? false;
    });
    expect(seen).toBe(true);
    expect(answer!.queues.map((queue) => queue.name)).toEqual(['purge']);
    expect(answer!.queues[0]!.readOnlyMode).toBe(true);
    const text = JSON.stringify(answer);
    expect(text).not.toContain(sent.code);
    expect(text).not.toContain(sent.deleteToken);
    expect(text).not.toContain('secret-name');

    // The sweeper's runs stay visible with their reports.
    const sweeps = await eventually(async () => {
      const response = await fetch(`${dashboard}/api/queues?activeQueue=purge&status=completed&page=1`, {
        headers: basic(USER, PASSWORD),
      });
      const completed = (await response.json()) as QueuesAnswer;
      return completed.queues[0]?.jobs.some((job) => job.name === 'sweep' && typeof job.returnValue === 'object') ?? false;
    });
    expect(sweeps).toBe(true);
    await downloadHash(`${stack.url}/download/${sent.code}`);
  });

  it('refuses every action', async () => {
    for (const path of ['/api/queues/purge/retry/failed', '/api/queues/purge/clean/completed', '/api/queues/purge/obliterate']) {
      const response = await fetch(`${dashboard}${path}`, { method: 'PUT', headers: basic(USER, PASSWORD) });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        error: { code: 'FORBIDDEN', message: expect.stringContaining('read-only') as string },
      });
    }
  });
});

describe('the worker dashboard with DASHBOARD_ACTIONS', () => {
  it('allows retry and clean, and nothing else', async () => {
    const stack = await startStack({ env: { DASHBOARD_ENABLED: 'true', DASHBOARD_TOKEN: TOKEN, DASHBOARD_ACTIONS: 'true' } });
    const headers = { authorization: `Bearer ${TOKEN}` };
    const dashboard = `${stack.worker!.opsUrl}/dashboard`;
    try {
      // Bearer only: the challenge says so.
      expect((await fetch(dashboard)).headers.get('www-authenticate')).toBe('Bearer realm="one-time dashboard"');
      const retried = await fetch(`${dashboard}/api/queues/purge/retry/failed`, { method: 'PUT', headers });
      expect(retried.status).toBe(200);
      const cleaned = await fetch(`${dashboard}/api/queues/purge/clean/completed`, { method: 'PUT', headers });
      expect(cleaned.status).toBe(200);
      for (const [method, path] of [
        ['PUT', '/api/queues/purge/obliterate'],
        ['PUT', '/api/queues/purge/empty'],
        ['PUT', '/api/queues/purge/pause'],
        ['POST', '/api/queues/purge/add'],
      ] as const) {
        const response = await fetch(`${dashboard}${path}`, { method, headers });
        expect(response.status).toBe(403);
      }
      expect(await stack.api.infra.purges.queue.isPaused()).toBe(false);
    } finally {
      await stack.stop();
    }
  });
});

describe('a worker with the dashboard on and no credential', () => {
  it('refuses to start, naming the variable', async () => {
    const child = spawn(process.execPath, ['apps/worker/src/main.ts'], {
      env: { PATH: process.env.PATH, DASHBOARD_ENABLED: 'true', OPS_PORT: '0', LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('DASHBOARD_ENABLED: the dashboard needs DASHBOARD_TOKEN or DASHBOARD_USER and DASHBOARD_PASSWORD');
  });
});
