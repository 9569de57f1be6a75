import './style.css';
import { createOneTimeClient, safeFileName, zipLength, type EncryptedUpload, type Uploaded } from '@one-time/client';
import { encryptedSize } from '@one-time/e2e';
import { byId, hideError as clearError, reveal, show, showError as showErrorIn } from './dom.ts';
import { formatBytes, formatDuration, formatExpiry, ttlChoices, ttlParameter } from './format.ts';
import { errorMessage } from './messages.ts';
import { drawQrCode } from './qr-code.ts';

type Limits = Awaited<ReturnType<ReturnType<typeof createOneTimeClient>['limits']>>;

const client = createOneTimeClient({ baseUrl: location.origin });
const form = byId<HTMLFormElement>('send-form');
const fileInput = byId<HTMLInputElement>('files');
const dropZone = byId('drop-zone');
const chosen = byId<HTMLUListElement>('chosen');
const ttlSelect = byId<HTMLSelectElement>('ttl');
const downloadsInput = byId<HTMLInputElement>('downloads');
const limitsNote = byId('limits-note');
const progressPanel = byId('progress');
const progressBar = byId<HTMLProgressElement>('progress-bar');
const progressText = byId('progress-text');
const cancelButton = byId<HTMLButtonElement>('cancel');
const resultPanel = byId('result');
const shareLink = byId<HTMLInputElement>('share-link');
const copyButton = byId<HTMLButtonElement>('copy');
const copyStatus = byId('copy-status');
const errorBox = byId('error');
const showError = (message: string, retry?: () => void): void => showErrorIn(errorBox, message, retry);
const hideError = (): void => clearError(errorBox);

let limits: Limits | undefined;
let upload: AbortController | undefined;
/** An encrypted upload that stopped on a network error, which "Try again" continues. */
let interrupted: EncryptedUpload | undefined;

/**
 * Files are encrypted in the page (`client.encryptedUpload`), which needs Web Crypto: browsers offer it only on
 * HTTPS or on this machine (localhost). Served over plain HTTP on a LAN, the page sends as before, unencrypted,
 * and says so.
 */
const canEncrypt = window.isSecureContext && typeof crypto.subtle !== 'undefined';

void start();

async function start(): Promise<void> {
  try {
    limits = await client.limits();
  } catch (error) {
    showError(errorMessage(error), () => void start());
    return;
  }
  hideError();
  applyLimits(limits);
  show(form);
}

function applyLimits(current: Limits): void {
  ttlSelect.replaceChildren(
    ...ttlChoices(current.ttlDefaultSeconds, current.ttlMaxSeconds).map((seconds) => {
      const option = new Option(formatDuration(seconds), String(seconds));
      option.selected = seconds === Math.min(current.ttlDefaultSeconds, current.ttlMaxSeconds);
      return option;
    }),
  );
  downloadsInput.max = String(current.downloadsMax);
  downloadsInput.value = String(current.downloadsDefault);
  limitsNote.textContent =
    `Up to ${formatBytes(current.maxUploadBytes)} in total and ${current.maxFilesPerUpload} files per upload` +
    ` (several files arrive as one zip). Expiry up to ${formatDuration(current.ttlMaxSeconds)}, ` +
    `up to ${current.downloadsMax} download${current.downloadsMax === 1 ? '' : 's'}.` +
    (canEncrypt
      ? ' Files are encrypted in your browser: the server never sees them or their names.'
      : ' This page is not on HTTPS, so your browser cannot encrypt here: files are sent without end-to-end encryption.');
}

fileInput.addEventListener('change', () => {
  hideError();
  listChosenFiles();
  const problem = checkFiles();
  if (problem !== undefined) showError(problem);
});

dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  dropZone.classList.add('dragging');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('dragging');
  if (!event.dataTransfer || event.dataTransfer.files.length === 0) return;
  fileInput.files = event.dataTransfer.files;
  fileInput.dispatchEvent(new Event('change'));
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void send();
});

cancelButton.addEventListener('click', () => {
  if (upload) {
    upload.abort();
    return;
  }
  // Stopped after an interruption: cancelling gives it up.
  interrupted?.abandon();
  interrupted = undefined;
  hideError();
  show(progressPanel, false);
  show(form);
  showError('The upload was cancelled.');
  byId<HTMLButtonElement>('send').focus();
});
copyButton.addEventListener('click', () => void copyLink());
byId('again').addEventListener('click', () => {
  form.reset();
  if (limits) applyLimits(limits);
  chosen.replaceChildren();
  show(resultPanel, false);
  show(form);
  fileInput.focus();
});

function listChosenFiles(): void {
  chosen.replaceChildren(
    ...Array.from(fileInput.files ?? [], (file) => {
      const item = document.createElement('li');
      const name = document.createElement('span');
      name.className = 'file-name';
      name.textContent = file.name;
      item.append(name, ` ${formatBytes(file.size)}`);
      return item;
    }),
  );
}

/** What the server would refuse anyway, said before a byte is sent. */
function checkFiles(): string | undefined {
  const files = Array.from(fileInput.files ?? []);
  if (files.length === 0) return 'Choose at least one file.';
  if (!limits) return undefined;
  if (files.length > limits.maxFilesPerUpload) return `Too many files: up to ${limits.maxFilesPerUpload} per upload.`;
  const total = files.reduce((sum, file) => sum + file.size, 0);
  if (uploadSize(files, total) > limits.maxUploadBytes) {
    return `That is too big (${formatBytes(total)}): this server takes up to ${formatBytes(limits.maxUploadBytes)} per upload.`;
  }
  return undefined;
}

/** What the server will be asked to store: encrypted, the ciphertext of the file (or of the zip of several). */
function uploadSize(files: readonly File[], total: number): number {
  if (!canEncrypt) return total;
  // The client zips several under the names it seals: the same names give the same length.
  const entries = files.map((file) => ({ name: safeFileName(file.name, 'file'), size: file.size }));
  return encryptedSize(files.length === 1 ? total : zipLength(entries));
}

function checkDownloads(): number | string {
  const downloads = Number(downloadsInput.value);
  const max = limits?.downloadsMax ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(downloads) || downloads < 1 || downloads > max) {
    return `Downloads allowed must be a whole number from 1 to ${max}.`;
  }
  return downloads;
}

async function send(): Promise<void> {
  hideError();
  const problem = checkFiles();
  const downloads = checkDownloads();
  if (problem !== undefined || typeof downloads === 'string') {
    showError(problem ?? (downloads as string));
    (problem !== undefined ? fileInput : downloadsInput).focus();
    return;
  }
  const files = Array.from(fileInput.files ?? []);
  const options = { ttl: ttlParameter(Number(ttlSelect.value)), downloads };
  if (!canEncrypt) {
    await sendPlain(files, options);
    return;
  }
  // Progress in plaintext bytes, so the numbers match the files' sizes (the client counts ciphertext).
  const job: EncryptedUpload = await client.encryptedUpload(files, {
    ...options,
    zipName: `one-time-${files.length}-files.zip`, // as the server names a zip of several
    // Nothing is sent yet: a refusal (a rate limit, no server) is said at once, and Upload tries again.
    retryCreate: false,
    onProgress: ({ sent: done, total }) => showProgress(total ? Math.floor((done / total) * job.plainSize) : 0, job.plainSize),
  });
  startProgress();
  await sendEncrypted(job);
}

function startProgress(): void {
  show(form, false);
  progressBar.value = 0;
  progressText.textContent = '';
  reveal(progressPanel);
  cancelButton.focus();
}

/** Runs (or resumes) an encrypted upload; on an interruption it offers to go on from where it stopped. */
async function sendEncrypted(job: EncryptedUpload): Promise<void> {
  const controller = new AbortController();
  upload = controller;
  interrupted = undefined;
  hideError();
  try {
    const sent = await job.run(controller.signal);
    show(progressPanel, false);
    showResult({ ...sent, size: job.plainSize }, true);
  } catch (error) {
    if (job.resumable && !controller.signal.aborted) {
      interrupted = job;
      showError(`${errorMessage(error, limits ?? {})} The upload stopped; what arrived is kept.`, () => void sendEncrypted(job));
      return;
    }
    job.abandon();
    show(progressPanel, false);
    show(form);
    showError(errorMessage(error, limits ?? {}));
    byId<HTMLButtonElement>('send').focus();
  } finally {
    upload = undefined;
  }
}

/** Without Web Crypto (plain HTTP): the multipart upload, unencrypted. */
async function sendPlain(files: File[], options: { ttl: string; downloads: number }): Promise<void> {
  upload = new AbortController();
  startProgress();
  try {
    const sent = await client.upload(files, {
      ...options,
      signal: upload.signal,
      onProgress: ({ sent: done, total }) => showProgress(done, total),
    });
    show(progressPanel, false);
    showResult(sent, false);
  } catch (error) {
    show(progressPanel, false);
    show(form);
    showError(errorMessage(error, limits ?? {}));
    byId<HTMLButtonElement>('send').focus();
  } finally {
    upload = undefined;
  }
}

function showProgress(sent: number, total: number | undefined): void {
  if (total === undefined || total === 0) {
    progressBar.removeAttribute('value');
    progressText.textContent = `${formatBytes(sent)} sent`;
    return;
  }
  progressBar.value = sent / total;
  progressText.textContent = `${formatBytes(sent)} of ${formatBytes(total)} (${Math.floor((sent / total) * 100)} %)`;
}

function showResult(sent: Uploaded, encrypted: boolean): void {
  shareLink.value = sent.url;
  copyStatus.textContent = '';
  drawQrCode(byId<SVGSVGElement>('qr'), sent.url);
  const times = sent.downloadsLeft === 1 ? 'once' : `${sent.downloadsLeft} times`;
  byId('result-summary').textContent =
    `${formatBytes(sent.size)}. It can be downloaded ${times} and expires ${formatExpiry(new Date(sent.expiresAt))}.` +
    (encrypted
      ? ' It is end-to-end encrypted: the key is the part of the link after #, which the server never sees, so share the whole link.'
      : '');
  byId('delete-token').textContent = sent.deleteToken;
  byId('delete-command').textContent =
    `curl -X DELETE -H 'X-Delete-Token: ${sent.deleteToken}' ${location.origin}/files/${sent.code}`;
  reveal(resultPanel);
}

async function copyLink(): Promise<void> {
  try {
    await navigator.clipboard.writeText(shareLink.value);
  } catch {
    // No clipboard API (plain http on a LAN): the selected text is still one Ctrl+C away.
    shareLink.select();
    copyStatus.textContent = 'Copying is blocked here: the link is selected, press Ctrl+C (or ⌘C).';
    return;
  }
  copyStatus.textContent = 'Link copied.';
}
