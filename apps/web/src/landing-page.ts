import './style.css';
import { OneTimeError, createOneTimeClient, safeFileName } from '@one-time/client';
import { E2EKeyError, keyFromFragment, openMetadata, type E2EMetadata } from '@one-time/e2e';
import { prepareWorker, saveDecrypted } from './decrypting-download.ts';
import { byId, hideError as clearError, reveal, show, showError as showErrorIn } from './dom.ts';
import { formatBytes, formatExpiry } from './format.ts';
import { errorMessage } from './messages.ts';
import type { SaveFailure } from './save-protocol.ts';

/** `file.info`; for an end-to-end encrypted file, `e2e.meta` is its sealed metadata (other files: `e2e: null`). */
type Info = Awaited<ReturnType<ReturnType<typeof createOneTimeClient>['info']>>;
/** The key from the link and what it opened. */
interface Opened {
  readonly key: Uint8Array;
  readonly meta: E2EMetadata;
}
type KeyProblem = 'missing' | 'wrong' | 'insecure';

const client = createOneTimeClient({ baseUrl: location.origin });
const code = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const downloadPath = `/download/${encodeURIComponent(code)}`;
const loading = byId('loading');
const filePanel = byId('file');
const keyPanel = byId('key-problem');
const form = byId<HTMLFormElement>('download-form');
const button = byId<HTMLButtonElement>('download');
const status = byId('download-status');
const errorBox = byId('error');
const showError = (message: string, retry?: () => void): void => showErrorIn(errorBox, message, retry);
const hideError = (): void => clearError(errorBox);

/** How the page re-checks after a click: soon, then backing off, about half a minute in all. */
const RECHECK_DELAYS_MS = [700, 1000, 1500, 2000, 3000, 5000, 8000, 10000];

const KEY_PROBLEMS: Record<KeyProblem, string> = {
  missing: 'This link is missing its key (the part after #). Ask the sender for the whole link.',
  wrong:
    'The key in this link does not match the file. Check that you copied the whole link, with everything after #, or ask the sender for it again.',
  insecure:
    'This file is end-to-end encrypted, and your browser decrypts only on a secure page: open the link with https:// (or ask the sender for one).',
};

/** Set while the file shown is end-to-end encrypted and the link's key opened it: the button then decrypts. */
let opened: Opened | undefined;

form.action = downloadPath;
byId('curl-command').textContent = `curl -fOJ ${location.origin}${downloadPath}`;
// Pasting the whole link into this tab changes only the fragment: no reload, so check the new key.
window.addEventListener('hashchange', () => void recheck());
void start();

async function start(): Promise<void> {
  // A failed download (the form's POST) comes back here with the reason; say it, then show the current state.
  const failed = new URLSearchParams(location.search).get('error');
  if (failed !== null) history.replaceState(null, '', `${location.pathname}${location.hash}`);
  const info = await load();
  if (info === undefined) return;
  if (failed !== null) showError(errorMessage(new OneTimeError(failed as OneTimeError['code'], failed)));
  await present(info);
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
  if (info !== undefined) await present(info);
}

async function recheck(): Promise<void> {
  show(filePanel, false);
  show(keyPanel, false);
  show(loading);
  await retry();
}

/** Shows the file; for an encrypted one, only once the link's key opened its name and size. */
async function present(info: Info): Promise<void> {
  const { e2e } = info;
  if (e2e) {
    const result = await openWithLinkKey(e2e.meta);
    if (typeof result === 'string') {
      opened = undefined;
      showKeyProblem(result);
      return;
    }
    opened = result;
    void prepareWorker(); // ready by the time of the click
  } else {
    opened = undefined;
  }
  showInfo(info);
}

/** The key never leaves this page: it is read from the fragment, which browsers do not send anywhere. */
async function openWithLinkKey(sealed: string): Promise<Opened | KeyProblem> {
  if (!window.isSecureContext || typeof crypto.subtle === 'undefined') return 'insecure';
  let key: Uint8Array;
  try {
    key = keyFromFragment(location.hash);
  } catch (error) {
    return error instanceof E2EKeyError && error.reason === 'missing' ? 'missing' : 'wrong';
  }
  try {
    return { key, meta: await openMetadata(key, sealed) };
  } catch {
    // A wrong key, or metadata that is not ours: either way this link cannot open this file.
    return 'wrong';
  }
}

function showKeyProblem(problem: KeyProblem): void {
  show(loading, false);
  show(filePanel, false);
  byId('key-problem-text').textContent = KEY_PROBLEMS[problem];
  reveal(keyPanel);
}

function showInfo(info: Info): void {
  show(loading, false);
  show(keyPanel, false);
  const name = opened ? opened.meta.name : info.name;
  const size = opened ? opened.meta.size : info.size;
  const type = opened ? opened.meta.type : info.contentType;
  byId('file-name').textContent = name;
  // Zips of several files as the server names them, and as the page (same name) or the CLI (`files.zip`) do.
  const zipOfSeveral = type === 'application/zip' && /^(one-time-\d+-files|files)\.zip$/.test(name);
  byId('file-size').textContent = `${formatBytes(size)}${zipOfSeveral ? ', several files sent as one zip' : ''}`;
  byId('file-expires').textContent = formatExpiry(new Date(info.expiresAt));
  byId('file-downloads').textContent = String(info.downloadsLeft);
  // curl would fetch the encrypted bytes, which are of no use without the page's decryption.
  show(byId('terminal'), opened === undefined);
  show(byId('e2e-note'), opened !== undefined);
  show(filePanel);
}

form.addEventListener('submit', (event) => {
  const before = Number(byId('file-downloads').textContent);
  if (opened) {
    // Decrypted in this browser: the page downloads, the form is not posted.
    event.preventDefault();
    if (!button.disabled) void downloadDecrypted(opened, before);
    return;
  }
  // The browser posts the form and saves the answer as a file; the page stays. Then it checks what is left.
  status.textContent = 'Starting the download…';
  queueMicrotask(() => (button.disabled = true));
  void followDownload(before);
});

async function downloadDecrypted({ key, meta }: Opened, before: number): Promise<void> {
  button.disabled = true;
  hideError();
  status.textContent = 'Starting the download…';
  const outcome = await saveDecrypted(
    { code, key, name: safeFileName(meta.name), size: meta.size },
    {
      onStarted: () => (status.textContent = 'Downloading and decrypting… Keep this page open until the file is saved.'),
      onProgress: (bytes) => {
        const percent = meta.size === 0 ? 100 : Math.floor((bytes / meta.size) * 100);
        status.textContent =
          `Downloading and decrypting: ${formatBytes(bytes)} of ${formatBytes(meta.size)} (${percent} %). ` +
          'Keep this page open until the file is saved.';
      },
    },
  );
  if (outcome.ok) {
    status.textContent = 'Decrypted. Your browser is saving the file…';
    await followDownload(before);
    return;
  }
  await explainFailure(outcome.failure);
}

async function explainFailure(failure: SaveFailure): Promise<void> {
  status.textContent = '';
  switch (failure.reason) {
    case 'server':
      if (failure.code === 'NOT_FOUND' || failure.code === 'INVALID_CODE') {
        showGone();
        return;
      }
      showError(
        errorMessage(
          new OneTimeError(failure.code as OneTimeError['code'], failure.code, {
            status: failure.status,
            ...(failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: failure.retryAfterSeconds }),
          }),
        ),
      );
      break;
    case 'network':
      showError('The download broke off: the server could not be reached. Check your connection.');
      break;
    case 'decrypt':
      showError(
        'The file could not be decrypted: its bytes were damaged or altered. The download was stopped, so no damaged file was saved.',
      );
      break;
    case 'cancelled':
      status.textContent = 'The download was cancelled.';
      break;
  }
  // Whether the attempt used up a download depends on how far it got: show what is left now.
  const info = await load();
  if (info !== undefined) showInfo(info);
  button.disabled = false;
}

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
  show(keyPanel, false);
  reveal(byId('gone'));
}
