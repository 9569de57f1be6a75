import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, FileChooser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webDistDir } from '@one-time/web';
import { launchChromium } from '../support/browser.ts';
import { sha256, uploadJson } from '../support/http.ts';
import { startStack, type Stack } from '../support/stack.ts';

/** Screenshots of every screen, kept after the run (CI artifacts; described in the README). */
const SCREENS = fileURLToPath(new URL('../../test-artifacts/web/', import.meta.url));
const PHONE = { width: 390, height: 844 };

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
/** Problems the pages reported: script errors and CSP violations. */
let pageProblems: string[];

beforeAll(async () => {
  if (!existsSync(join(webDistDir, 'index.html'))) throw new Error('apps/web is not built: run `npm run build` (npm test does).');
  await mkdir(SCREENS, { recursive: true });
  stack = await startStack();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});
afterEach(async () => {
  await context?.close();
  expect(pageProblems).toEqual([]);
});

async function newPage(): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) pageProblems.push(`CSP: ${message.text()}`);
  });
  return page;
}

async function freshContext(options: { phone?: boolean; permissions?: string[] } = {}): Promise<void> {
  pageProblems = [];
  context = await browser.newContext({
    acceptDownloads: true,
    ...(options.phone ? { viewport: PHONE, isMobile: true, hasTouch: true } : {}),
    ...(options.permissions ? { permissions: options.permissions } : {}),
  });
}

const screenshot = (page: Page, name: string) => page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true });

describe('the web page', () => {
  it('sends a file, and the landing page survives reloads, downloads it once, then says it is gone', async () => {
    await freshContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await newPage();
    const content = randomBytes(256 * 1024 + 7);
    await page.goto(`${stack.url}/`);
    await page.getByLabel('Downloads allowed').waitFor();
    await screenshot(page, '01-send-empty');

    await page
      .locator('#files')
      .setInputFiles({ name: 'holiday plan.bin', mimeType: 'application/octet-stream', buffer: content });
    await expect.poll(() => page.locator('#chosen').innerText()).toContain('holiday plan.bin');
    await page.getByLabel('Expires after').selectOption({ label: '1 hour' });
    await page.getByLabel('Downloads allowed').fill('1');
    await screenshot(page, '02-send-chosen');
    await page.getByRole('button', { name: 'Upload' }).click();

    const result = page.locator('#result');
    await result.waitFor({ state: 'visible' });
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('result');
    const link = await page.getByLabel(/Share this link/).inputValue();
    // End-to-end encrypted in the page: the key travels in the link's fragment (test/browser/e2e-web.test.ts).
    expect(link).toMatch(new RegExp(`^${stack.url}/d/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{22}$`));
    expect(await page.locator('#result-summary').innerText()).toMatch(
      /^256 KB\. It can be downloaded once and expires in 1 hour/,
    );
    expect((await page.locator('#qr path').getAttribute('d'))?.length).toBeGreaterThan(100);
    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect.poll(() => page.locator('#copy-status').innerText()).toBe('Link copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await screenshot(page, '03-send-link');

    const landing = await newPage();
    await landing.goto(link);
    for (let load = 0; load < 3; load += 1) {
      if (load > 0) await landing.reload();
      await landing.locator('#file').waitFor({ state: 'visible' });
      expect(await landing.locator('#file-name').innerText()).toBe('holiday plan.bin');
      expect(await landing.locator('#file-size').innerText()).toBe('256 KB');
      expect(await landing.locator('#file-expires').innerText()).toMatch(/^in 1 hour \(/);
      expect(await landing.locator('#file-downloads').innerText()).toBe('1');
    }
    // curl would get the ciphertext only: the terminal hint is for files sent without end-to-end encryption.
    expect(await landing.locator('#terminal').isHidden()).toBe(true);
    expect(await landing.locator('#e2e-note').isVisible()).toBe(true);
    await screenshot(landing, '04-landing');

    const [download] = await Promise.all([
      landing.waitForEvent('download'),
      landing.getByRole('button', { name: 'Download — this works once' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('holiday plan.bin');
    expect(sha256(await readFile(await download.path()))).toBe(sha256(content));
    await landing.locator('#downloaded').waitFor({ state: 'visible' });
    expect(await landing.locator('#downloaded h2').innerText()).toBe('Downloaded — the file is gone');
    await screenshot(landing, '05-landing-downloaded');

    await landing.reload();
    await landing.locator('#gone').waitFor({ state: 'visible' });
    const usedText = await landing.locator('#gone').innerText();
    await screenshot(landing, '06-landing-gone');
    expect((await fetch(link.replace('/d/', '/download/'))).status).toBe(404);

    // An unknown code reads exactly like a used one: the page does not say which.
    await landing.goto(`${stack.url}/d/AAAAAAAAAAAAAAAAAAAAAA`);
    await landing.locator('#gone').waitFor({ state: 'visible' });
    expect(await landing.locator('#gone').innerText()).toBe(usedText);
    await landing.goto(`${stack.url}/d/not-even-a-code`);
    await landing.locator('#gone').waitFor({ state: 'visible' });
    expect(await landing.locator('#gone').innerText()).toBe(usedText);
  });

  it('leaves a cut-off download resumable: a scoped, script-proof session cookie that a Range request carries', async () => {
    await freshContext();
    const content = randomBytes(32 * 1024 * 1024); // larger than the socket buffers, so the cancel lands mid-file
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'large.bin', content }]);
    const landing = await newPage();
    await landing.goto(answer.url);
    await landing.locator('#file').waitFor({ state: 'visible' });
    const [download] = await Promise.all([landing.waitForEvent('download'), landing.locator('#download').click()]);
    await download.cancel(); // what a dropped connection leaves: a download the browser did not finish

    const path = `/download/${answer.code}`;
    const [cookie] = (await context.cookies(`${stack.url}${path}`)).filter((c) => c.name === 'one_time_session');
    expect(cookie).toMatchObject({ path, httpOnly: true, sameSite: 'Strict' });
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await context.cookies(`${stack.url}/d/${answer.code}`)).toEqual([]); // only the download path gets it
    expect(await landing.evaluate(() => document.cookie)).toBe('');

    // The browser context's own requests carry its cookies: with a range, the rest of the file comes back.
    const rest = await context.request.get(`${stack.url}${path}`, { headers: { range: 'bytes=1000000-' } });
    expect(rest.status()).toBe(206);
    expect(rest.headers()['content-range']).toBe(`bytes 1000000-${content.length - 1}/${content.length}`);
    expect((await rest.body()).equals(content.subarray(1_000_000))).toBe(true);
    // Someone else with the link gets nothing.
    expect((await fetch(`${stack.url}${path}`, { headers: { range: 'bytes=0-' } })).status).toBe(404);
  });

  it('is not used up by link previews: GET, HEAD, bot user agents, or a browser rendering the page', async () => {
    pageProblems = [];
    const content = randomBytes(4096);
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'secret-plans.pdf', content }]);
    const agents = [
      'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
      'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
      'WhatsApp/2.24.1 A',
      'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
      'TelegramBot (like TwitterBot)',
      'Twitterbot/1.0',
      'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5266; Pro)',
      'curl/8.5.0',
    ];
    const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    for (const method of ['GET', 'HEAD']) {
      for (const agent of agents) {
        for (const accept of ['*/*', browserAccept]) {
          const response = await fetch(answer.url, { method, headers: { 'user-agent': agent, accept } });
          expect(response.headers.get('cache-control')).toBe('no-store');
          expect(response.headers.get('x-robots-tag')).toBe('noindex, nofollow');
          if (accept === browserAccept) {
            expect(response.status).toBe(200);
            expect(response.headers.get('content-type')).toMatch(/^text\/html/);
            expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
          } else {
            // Not asking for HTML (curl, scripts, some bots): a short text with the direct command, and a 406.
            expect(response.status).toBe(406);
            expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
          }
          // A preview shows nothing about the file: the page is the same for every code.
          if (method === 'GET') expect(await response.text()).not.toContain('secret-plans');
        }
      }
    }
    // Previewers that render pages run the script, which only reads `file.info`.
    await freshContext();
    const preview = await newPage();
    await preview.goto(answer.url);
    await preview.locator('#file').waitFor({ state: 'visible' });
    expect(await preview.locator('#file-name').innerText()).toBe('secret-plans.pdf');
    // A file sent without end-to-end encryption (curl, scripts) can be fetched from a terminal too.
    expect(await preview.locator('#curl-command').textContent()).toBe(`curl -fOJ ${answer.downloadUrl}`);
    expect(await preview.locator('#terminal').isVisible()).toBe(true);
    expect(await preview.locator('#e2e-note').isHidden()).toBe(true);

    const first = await fetch(answer.downloadUrl);
    expect(first.status).toBe(200);
    expect(sha256(new Uint8Array(await first.arrayBuffer()))).toBe(sha256(content));
    expect((await fetch(answer.downloadUrl)).status).toBe(404);
  });

  it('sends several files as one zip at phone width, and counts down a file allowed twice', async () => {
    await freshContext({ phone: true });
    const page = await newPage();
    await page.goto(`${stack.url}/`);
    await page.getByLabel('Downloads allowed').fill('2');
    await page.locator('#files').setInputFiles([
      { name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('first file') },
      { name: 'b.txt', mimeType: 'text/plain', buffer: Buffer.from('second file') },
    ]);
    expect(await fitsTheScreen(page)).toBe(true);
    await screenshot(page, '07-phone-send');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#result').waitFor({ state: 'visible' });
    const link = await page.getByLabel(/Share this link/).inputValue();
    expect(await page.locator('#result-summary').innerText()).toMatch(/It can be downloaded 2 times/);
    expect(await fitsTheScreen(page)).toBe(true);
    await screenshot(page, '08-phone-link');

    const landing = await newPage();
    await landing.goto(link);
    await landing.locator('#file').waitFor({ state: 'visible' });
    // The page zipped them, its length known before a byte is read: two stored entries, their headers, data
    // descriptors and the directory (the size sealed in the encrypted metadata).
    expect(await landing.locator('#file-size').innerText()).toBe('247 bytes, several files sent as one zip');
    expect(await fitsTheScreen(landing)).toBe(true);
    await screenshot(landing, '09-phone-landing');
    const [download] = await Promise.all([landing.waitForEvent('download'), landing.locator('#download').click()]);
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
    await download.path();
    await expect
      .poll(() => landing.locator('#download-status').innerText())
      .toBe('Downloaded. It can be downloaded 1 more time.');
    expect(await landing.locator('#file-downloads').innerText()).toBe('1');
    expect(await landing.locator('#download').isEnabled()).toBe(true);
  });

  it('says what went wrong in words: too big, rate limited, server unreachable', async () => {
    const strict = await startStack({ worker: false, env: { MAX_UPLOAD_SIZE: '1KiB', RATE_LIMIT_UPLOADS: '1' } });
    try {
      await freshContext();
      const page = await newPage();
      await page.goto(`${strict.url}/`);
      await page.getByLabel('Downloads allowed').waitFor();
      expect(await page.locator('#limits-note').innerText()).toContain('Up to 1 KB in total');

      await page
        .locator('#files')
        .setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: randomBytes(2048) });
      expect(await page.getByRole('alert').innerText()).toBe('That is too big (2 KB): this server takes up to 1 KB per upload.');
      await screenshot(page, '10-error-too-big');

      await page.locator('#files').setInputFiles({ name: 'ok.txt', mimeType: 'text/plain', buffer: Buffer.from('fits') });
      await expect.poll(() => page.getByRole('alert').isHidden()).toBe(true);
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.locator('#result').waitFor({ state: 'visible' });
      await page.getByRole('button', { name: 'Send another file' }).click();
      await page.locator('#files').setInputFiles({ name: 'again.txt', mimeType: 'text/plain', buffer: Buffer.from('again') });
      await page.getByRole('button', { name: 'Upload' }).click();
      await expect
        .poll(() => page.getByRole('alert').innerText())
        .toMatch(/^Too many requests from your network just now\. Try again in \d+ (seconds?|minutes?)\.$/);
      await screenshot(page, '11-error-rate-limited');

      await page.route('**/upload*', (route) => route.abort('connectionrefused'));
      await page.getByRole('button', { name: 'Upload' }).click();
      await expect
        .poll(() => page.getByRole('alert').innerText())
        .toBe('The server cannot be reached. Check your connection, or try again in a few minutes.');
      await screenshot(page, '12-error-unreachable');

      // The landing page too, and its retry button recovers once the server answers again.
      const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'later.txt', content: 'later' }]);
      const landing = await newPage();
      await landing.route('**/trpc/**', (route) => route.abort('connectionrefused'));
      await landing.goto(answer.url);
      await expect
        .poll(() => landing.getByRole('alert').innerText())
        .toContain('The server cannot be reached. Check your connection, or try again in a few minutes.');
      await landing.unroute('**/trpc/**');
      await landing.getByRole('button', { name: 'Try again' }).click();
      await landing.locator('#file').waitFor({ state: 'visible' });
      expect(await landing.getByRole('alert').isHidden()).toBe(true);
    } finally {
      await strict.stop();
    }
  });

  it('sends a failed form download back to the landing page, which says the file is gone', async () => {
    pageProblems = [];
    const answer = await uploadJson(stack.url, [{ field: 'file', filename: 'once.txt', content: 'once' }]);
    expect((await fetch(answer.downloadUrl)).status).toBe(200);
    const post = await fetch(answer.downloadUrl, { method: 'POST', redirect: 'manual', headers: { accept: 'text/html' } });
    expect(post.status).toBe(303);
    expect(post.headers.get('location')).toBe(`/d/${answer.code}?error=NOT_FOUND`);
    // Scripts and API clients get the JSON error instead.
    const api = await fetch(answer.downloadUrl, { method: 'POST', headers: { accept: 'application/json' } });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');

    await freshContext();
    const page = await newPage();
    await page.goto(`${stack.url}${post.headers.get('location') ?? ''}`);
    await page.locator('#gone').waitFor({ state: 'visible' });
    expect(new URL(page.url()).search).toBe('');
  });

  it('works with the keyboard alone, labels every control, and keeps text contrast at WCAG AA', async () => {
    await freshContext();
    const page = await newPage();
    await page.goto(`${stack.url}/`);
    await page.getByLabel('Downloads allowed').waitFor();
    expect(await unlabelledControls(page)).toEqual([]);
    expect(await lowContrastText(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await lowContrastText(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });

    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName.toLowerCase());
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('a'); // the name at the top, a link home
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('files');
    const chooser = await chooserFromKeyboard(page);
    await chooser.setFiles({ name: 'typed.txt', mimeType: 'text/plain', buffer: Buffer.from('keyboard only') });
    const order: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      await page.keyboard.press('Tab');
      order.push((await focused()) ?? '');
    }
    expect(order).toEqual(['ttl', 'downloads', 'send']);
    await page.keyboard.press('Enter');
    await page.locator('#result').waitFor({ state: 'visible' });
    // Focus moves to the result, so the next Tab reaches the link and its copy button.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('result');
    expect(await unlabelledControls(page)).toEqual([]);
    expect(await lowContrastText(page)).toEqual([]);

    const landing = await newPage();
    await landing.goto(await page.locator('#share-link').inputValue());
    await landing.locator('#file').waitFor({ state: 'visible' });
    expect(await lowContrastText(landing)).toEqual([]);
    await landing.locator('#download').focus();
    const [download] = await Promise.all([landing.waitForEvent('download'), landing.keyboard.press('Enter')]);
    expect(await readFile(await download.path(), 'utf8')).toBe('keyboard only');
    await landing.locator('#downloaded').waitFor({ state: 'visible' });
    expect(await landing.evaluate(() => document.activeElement?.id)).toBe('downloaded');
  });

  it('serves its assets safely: hashed files cached for good, unknown ones a clean 404', async () => {
    pageProblems = [];
    const html = await (await fetch(`${stack.url}/`)).text();
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${stack.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    for (const path of ['/assets/nope.js', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/index.ts']) {
      const missing = await fetch(`${stack.url}${path}`);
      expect(missing.status, path).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script: the CSP would refuse it anyway
    expect(html).not.toMatch(/https?:\/\//); // nothing from another host (closed LANs)
  });
});

/** Nothing wider than the viewport: no sideways scrolling on a phone. */
function fitsTheScreen(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

/** Form controls without an accessible label, and buttons without a name. */
function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>('input, select, button')]
      .filter((control) => control.checkVisibility() || control.type === 'file')
      .filter((control) =>
        control instanceof HTMLButtonElement ? control.innerText.trim() === '' : (control.labels?.length ?? 0) === 0,
      )
      .map((control) => control.outerHTML.slice(0, 80)),
  );
}

/** Visible text whose contrast with its background is under 4.5:1 (WCAG 2.x AA for body text). */
function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (color: string): [number, number, number, number] => {
      const [r = 0, g = 0, b = 0, a = 1] = (color.match(/[\d.]+/g) ?? []).map(Number);
      return [r, g, b, a];
    };
    const luminance = ([r, g, b]: [number, number, number, number]) => {
      const channel = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (element: Element | null): [number, number, number, number] => {
      for (let node = element; node; node = node.parentElement) {
        const color = rgb(getComputedStyle(node).backgroundColor);
        if (color[3] > 0) return color;
      }
      return [255, 255, 255, 1];
    };
    const problems: string[] = [];
    for (const element of document.querySelectorAll<HTMLElement>('body *')) {
      const ownText = [...element.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && node.textContent?.trim());
      if (!ownText || !element.checkVisibility()) continue;
      const fore = luminance(rgb(getComputedStyle(element).color));
      const back = luminance(background(element));
      const ratio = (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
      if (ratio < 4.5) problems.push(`${element.tagName.toLowerCase()}#${element.id}: ${ratio.toFixed(2)}:1`);
    }
    return problems;
  });
}

/**
 * Space on the focused file input opens the chooser. On a loaded machine Chromium may drop the first key press
 * before the input is ready for it: a person would press again, and so does this, up to three times.
 */
async function chooserFromKeyboard(page: Page): Promise<FileChooser> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const opening = page.waitForEvent('filechooser', { timeout: 5_000 }).catch(() => undefined);
    await page.keyboard.press('Space');
    const chooser = await opening;
    if (chooser) return chooser;
  }
  throw new Error('Space on the file input opened no file chooser');
}
