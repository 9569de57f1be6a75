import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from '../support/stack.ts';
import { downloadHash, generatedFile, uploadJson, uploadMultipart } from '../support/http.ts';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

/** A sample's value from Prometheus text, e.g. `one_time_uploads_total{result="ok"}`; 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('metrics, health and readiness', () => {
  let stack: Stack;
  const logLines: string[] = [];
  const scrape = async (url: string, token: string | undefined = METRICS_TOKEN) => {
    const response = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  beforeAll(async () => {
    const logDestination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        callback();
      },
    });
    stack = await startStack({ env: { METRICS_TOKEN, LOG_LEVEL: 'debug' }, logDestination });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('answers /healthz and /readyz on the API and on the worker ops port', async () => {
    for (const base of [stack.url, stack.worker!.opsUrl]) {
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        down: [],
        checks: { metadata: 'up', blobs: 'up', queue: 'up' },
      });
    }
  });

  it('protects /metrics on the public port with METRICS_TOKEN', async () => {
    const anonymous = await fetch(`${stack.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await anonymous.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) as string } });
    expect((await fetch(`${stack.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(
      401,
    );
    expect(await scrape(stack.url)).toContain('# TYPE one_time_uploads_total counter');
    // The ops port asks for the token too once one is configured.
    expect((await fetch(`${stack.worker!.opsUrl}/metrics`)).status).toBe(401);
    expect(await scrape(stack.worker!.opsUrl)).toContain('# TYPE one_time_purges_total counter');
  });

  it('counts uploads, downloads, bytes, revokes, rejects and purges, and never shows a code', async () => {
    const before = await scrape(stack.url);
    const file = generatedFile(300_000);
    const sent = await uploadJson(stack.url, [{ field: 'file', filename: 'a.bin', content: file.stream() }]);
    const got = await downloadHash(`${stack.url}/download/${sent.code}`);
    expect(got.sha256).toBe(file.sha256);
    expect((await fetch(`${stack.url}/download/${sent.code}`)).status).toBe(404); // used up
    expect((await fetch(`${stack.url}/download/not-a-code`)).status).toBe(400);
    const revocable = await uploadJson(stack.url, [{ field: 'file', filename: 'b.txt', content: 'revoke me' }]);
    expect(
      (await fetch(`${stack.url}/files/${revocable.code}`, { method: 'DELETE', headers: { 'x-delete-token': 'x' } })).status,
    ).toBe(403);
    const revoked = await fetch(`${stack.url}/files/${revocable.code}`, {
      method: 'DELETE',
      headers: { 'x-delete-token': revocable.deleteToken },
    });
    expect(revoked.status).toBe(204);
    const refused = await uploadMultipart(stack.url, [{ field: 'file', filename: 'c.txt', content: 'x' }], { ttl: '99y' });
    expect(refused.status).toBe(400);

    const after = await scrape(stack.url);
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('one_time_uploads_total{result="ok"}')).toBe(2);
    expect(delta('one_time_uploads_total{result="rejected"}')).toBe(1);
    expect(delta('one_time_downloads_total{result="ok"}')).toBe(1);
    expect(delta('one_time_downloads_total{result="rejected"}')).toBe(2);
    expect(delta('one_time_revokes_total{result="ok"}')).toBe(1);
    expect(delta('one_time_revokes_total{result="rejected"}')).toBe(1);
    expect(delta('one_time_rejects_total{operation="download",reason="NOT_FOUND"}')).toBe(1);
    expect(delta('one_time_rejects_total{operation="download",reason="INVALID_CODE"}')).toBe(1);
    expect(delta('one_time_rejects_total{operation="revoke",reason="FORBIDDEN"}')).toBe(1);
    expect(delta('one_time_rejects_total{operation="upload",reason="BAD_REQUEST"}')).toBe(1);
    expect(delta('one_time_upload_bytes_total')).toBe(300_000 + 'revoke me'.length + 'x'.length); // the refused upload's byte came in too
    expect(delta('one_time_download_bytes_total')).toBe(300_000);
    expect(delta('one_time_upload_duration_seconds_count{result="ok"}')).toBe(2);
    expect(delta('one_time_download_duration_seconds_count{result="ok"}')).toBe(1);
    expect(after).toContain('process_cpu_seconds_total');
    for (const secret of [sent.code, sent.deleteToken, revocable.code, revocable.deleteToken])
      expect(after).not.toContain(secret);

    // The API purged the downloaded file itself, right after the download.
    expect(await eventually(async () => sample(await scrape(stack.url), 'one_time_purges_total{cause="downloaded"}') >= 1)).toBe(
      true,
    );
    // The worker purges the revoked one through its job (a revoked file is purged as expired).
    let worker = '';
    expect(
      await eventually(async () => {
        worker = await scrape(stack.worker!.opsUrl);
        // A job is counted as completed just after its purge is: wait for both.
        return (
          sample(worker, 'one_time_purges_total{cause="expired"}') >= 1 &&
          sample(worker, 'one_time_jobs_total{job="purge-file",result="completed"}') >= 1
        );
      }),
    ).toBe(true);
    expect(sample(worker, 'one_time_expiries_total')).toBeGreaterThanOrEqual(1);
    expect(await eventually(async () => sample(await scrape(stack.worker!.opsUrl), 'one_time_sweeps_total') >= 1)).toBe(true);
    worker = await scrape(stack.worker!.opsUrl);
    expect(worker).toMatch(/^one_time_queue_jobs\{state="delayed"\} \d+$/m);
    expect(worker).toMatch(/^one_time_queue_jobs\{state="failed"\} \d+$/m);
    expect(worker).toContain('one_time_sweep_due_records_total');
    expect(worker).toContain('one_time_orphan_blobs_removed_total');
    expect(worker).toContain('one_time_sweep_last_run_timestamp_seconds');
    for (const secret of [sent.code, revocable.code]) expect(worker).not.toContain(secret);
  });

  it('counts an upload too large and a rate-limited request by reason', async () => {
    const limited = await startStack({
      env: { METRICS_TOKEN, MAX_UPLOAD_SIZE: '1000', RATE_LIMIT_DOWNLOADS: '1' },
      worker: false,
    });
    try {
      const big = await uploadMultipart(limited.url, [
        { field: 'file', filename: 'big.bin', content: generatedFile(5000).stream() },
      ]);
      expect(big.status).toBe(413);
      await fetch(`${limited.url}/download/AAAAAAAAAAAAAAAAAAAAAA`);
      expect((await fetch(`${limited.url}/download/AAAAAAAAAAAAAAAAAAAAAA`)).status).toBe(429);
      const text = await scrape(limited.url);
      expect(sample(text, 'one_time_rejects_total{operation="upload",reason="PAYLOAD_TOO_LARGE"}')).toBe(1);
      expect(sample(text, 'one_time_rejects_total{operation="download",reason="RATE_LIMITED"}')).toBe(1);
      // Scrapes are never rate limited, however often they come.
      for (let i = 0; i < 5; i += 1) await scrape(limited.url);
    } finally {
      await limited.stop();
    }
  });

  it('logs probes and scrapes at debug level without the token, and requests at info with a request id', () => {
    const lines = logLines.map(
      (line) => JSON.parse(line) as { level: number; req?: { id?: string; url?: string }; msg?: string },
    );
    const scrapes = lines.filter((line) => line.req?.url === '/metrics');
    expect(scrapes.length).toBeGreaterThan(0);
    expect(scrapes.every((line) => line.level === 20 || line.level === 40)).toBe(true); // debug, or warn for 401s
    expect(lines.some((line) => line.req?.url === '/healthz' && line.level === 20)).toBe(true);
    expect(
      lines.some((line) => line.req?.url === '/download/[redacted]' && line.level === 30 && typeof line.req.id === 'string'),
    ).toBe(true);
    expect(logLines.join('\n')).not.toContain(METRICS_TOKEN);
  });
});

describe('metrics without a METRICS_TOKEN', () => {
  it('are not served on the public port, and served openly on the internal ops port', async () => {
    const stack = await startStack();
    try {
      const response = await fetch(`${stack.url}/metrics`);
      expect(response.status).toBe(404);
      const ops = await fetch(`${stack.worker!.opsUrl}/metrics`);
      expect(ops.status).toBe(200);
      expect(await ops.text()).toContain('one_time_jobs_total');
      // Without DASHBOARD_ENABLED there is no dashboard at all.
      expect((await fetch(`${stack.worker!.opsUrl}/dashboard`)).status).toBe(404);
    } finally {
      await stack.stop();
    }
  });
});
