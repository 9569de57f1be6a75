import './style.css';
import { OneTimeError, createOneTimeClient } from '@one-time/client';
import { byId, hideError as clearError, reveal, show, showError as showErrorIn } from './dom.ts';
import { formatBytes, formatExpiry } from './format.ts';
import { errorMessage } from './messages.ts';

type Info = Awaited<ReturnType<ReturnType<typeof createOneTimeClient>['info']>>;

const client = createOneTimeClient({ baseUrl: location.origin });
const code = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const downloadPath = `/download/${encodeURIComponent(code)}`;
const loading = byId('loading');
const filePanel = byId('file');
const form = byId<HTMLFormElement>('download-form');
const button = byId<HTMLButtonElement>('download');
const status = byId('download-status');
const errorBox = byId('error');
const showError = (message: string, retry?: () => void): void => showErrorIn(errorBox, message, retry);
const hideError = (): void => clearError(errorBox);

/** How the page re-checks after a click: soon, then backing off, about half a minute in all. */
const RECHECK_DELAYS_MS = [700, 1000, 1500, 2000, 3000, 5000, 8000, 10000];

form.action = downloadPath;
byId('curl-command').textContent = `curl -fOJ ${location.origin}${downloadPath}`;
void start();

async function start(): Promise<void> {
  // A failed download (the form's POST) comes back here with the reason; say it, then show the current state.
  const failed = new URLSearchParams(location.search).get('error');
  if (failed !== null) history.replaceState(null, '', location.pathname);
  const info = await load();
  if (info === undefined) return;
  if (failed !== null) showError(errorMessage(new OneTimeError(failed as OneTimeError['code'], failed)));
  showInfo(info);
}

/** `undefined` once the page shows why there is nothing to download. */
async function load(): Promise<Info | undefined> {
  try {
    return await client.info(code);
  } catch (error) {
    show(loading, false);
    if (isGone(error)) showGone();
    else showError(errorMessage(error), () => void retry());
    return undefined;
  }
}

async function retry(): Promise<void> {
  hideError();
  const info = await load();
  if (info !== undefined) showInfo(info);
}

function showInfo(info: Info): void {
  show(loading, false);
  byId('file-name').textContent = info.name;
  const zipOfSeveral = info.contentType === 'application/zip' && /^one-time-\d+-files\.zip$/.test(info.name);
  byId('file-size').textContent = `${formatBytes(info.size)}${zipOfSeveral ? ', several files sent as one zip' : ''}`;
  byId('file-expires').textContent = formatExpiry(new Date(info.expiresAt));
  byId('file-downloads').textContent = String(info.downloadsLeft);
  show(filePanel);
}

form.addEventListener('submit', () => {
  // The browser posts the form and saves the answer as a file; the page stays. Then it checks what is left.
  const before = Number(byId('file-downloads').textContent);
  status.textContent = 'Starting the download…';
  queueMicrotask(() => (button.disabled = true));
  void followDownload(before);
});

async function followDownload(before: number): Promise<void> {
  for (const delay of RECHECK_DELAYS_MS) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    let info: Info;
    try {
      info = await client.info(code);
    } catch (error) {
      if (!isGone(error)) continue;
      show(filePanel, false);
      reveal(byId('downloaded'));
      return;
    }
    if (info.downloadsLeft < before) {
      showInfo(info);
      status.textContent = `Downloaded. It can be downloaded ${info.downloadsLeft} more time${info.downloadsLeft === 1 ? '' : 's'}.`;
      button.disabled = false;
      return;
    }
  }
  status.textContent = 'If the download did not start, try again.';
  button.disabled = false;
}

function isGone(error: unknown): boolean {
  return (
    error instanceof OneTimeError && (error.code === 'NOT_FOUND' || error.code === 'INVALID_CODE' || error.code === 'BAD_REQUEST')
  );
}

function showGone(): void {
  show(filePanel, false);
  reveal(byId('gone'));
}
