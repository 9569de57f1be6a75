import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';

export interface MemoryPeaks {
  /** Sum of the resident memory of Chromium's renderer processes (pages and service workers), when sampling began. */
  readonly rendererStart: number;
  /** Its highest value while sampling. */
  readonly rendererPeak: number;
  /** Every process of the browser (browser, renderers, network service, GPU), highest sum while sampling. */
  readonly allPeak: number;
  /** Per process type (`browser`, `renderer`, `utility` for the network service, …): highest sum while sampling. */
  readonly byTypePeak: Readonly<Record<string, number>>;
  /** The same sums when sampling began. */
  readonly byTypeStart: Readonly<Record<string, number>>;
  /** Highest JS heap in use (`JSHeapUsedSize`) of any page watched. */
  readonly pageHeapPeak: number;
  readonly samples: number;
}

export interface MemorySampler {
  /** Starts watching one more page's JS heap (a page opened after sampling began). */
  watchPage(page: Page): Promise<void>;
  stop(): Promise<MemoryPeaks>;
}

interface ProcessInfo {
  readonly type: string;
  readonly id: number;
}

/**
 * Samples the memory of a Chromium launched by Playwright every `everyMs`: resident set sizes from /proc of the
 * processes the browser reports (`SystemInfo.getProcessInfo`), and pages' JS heaps over CDP
 * (`Performance.getMetrics`).
 */
export async function sampleMemory(
  browser: Browser,
  context: BrowserContext,
  pages: readonly Page[],
  everyMs = 100,
): Promise<MemorySampler> {
  const system = await browser.newBrowserCDPSession();
  const heaps: CDPSession[] = [];
  const watchPage = async (page: Page) => {
    const session = await context.newCDPSession(page);
    await session.send('Performance.enable');
    heaps.push(session);
  };
  for (const page of pages) await watchPage(page);

  const sample = async () => {
    const { processInfo } = (await system.send('SystemInfo.getProcessInfo')) as { processInfo: ProcessInfo[] };
    let renderers = 0;
    let all = 0;
    const byType: Record<string, number> = {};
    for (const process of processInfo) {
      const rss = await residentBytes(process.id);
      all += rss;
      byType[process.type] = (byType[process.type] ?? 0) + rss;
      if (process.type === 'renderer') renderers += rss;
    }
    let heap = 0;
    for (const session of heaps) {
      try {
        const { metrics } = await session.send('Performance.getMetrics');
        heap = Math.max(heap, metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? 0);
      } catch {
        // The page closed.
      }
    }
    return { renderers, all, heap, byType };
  };

  const first = await sample();
  const peaks = {
    rendererStart: first.renderers,
    rendererPeak: first.renderers,
    allPeak: first.all,
    byTypePeak: { ...first.byType },
    byTypeStart: { ...first.byType },
    pageHeapPeak: first.heap,
    samples: 1,
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      try {
        const now = await sample();
        peaks.rendererPeak = Math.max(peaks.rendererPeak, now.renderers);
        peaks.allPeak = Math.max(peaks.allPeak, now.all);
        peaks.pageHeapPeak = Math.max(peaks.pageHeapPeak, now.heap);
        for (const [type, rss] of Object.entries(now.byType)) peaks.byTypePeak[type] = Math.max(peaks.byTypePeak[type] ?? 0, rss);
        peaks.samples += 1;
      } catch {
        // A process ended between listing and reading: the next sample counts.
      }
    }
  })();

  return {
    watchPage,
    async stop() {
      running = false;
      await loop;
      await Promise.all([system, ...heaps].map((session) => session.detach().catch(() => undefined)));
      return { ...peaks, byTypePeak: { ...peaks.byTypePeak } };
    },
  };
}

async function residentBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0; // gone
  }
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
