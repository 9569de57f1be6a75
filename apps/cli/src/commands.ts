import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OneTimeError, safeFileName, type Described, type OneTimeClient } from '@one-time/client';
import { progressBar } from './progress.ts';
import { saveFile } from './save-file.ts';

export interface Output {
  line(text: string): void;
}

/**
 * Sends files. By default they are encrypted here, end to end (several are zipped first, as `files.zip`): the
 * link printed carries the key after `#`, and only it opens the file. `e2e: false` sends them as they are,
 * encrypted by the server, with a plain link curl can download.
 */
export async function send(
  client: OneTimeClient,
  files: string[],
  options: { ttl?: string; downloads?: number; json: boolean; e2e: boolean },
  out: Output,
): Promise<void> {
  if (files.length === 0) throw new UsageError('send needs at least one file');
  const bar = progressBar('sending');
  try {
    const settings = {
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
      ...(options.downloads === undefined ? {} : { downloads: options.downloads }),
      onProgress: ({ sent: done, total }: { sent: number; total: number | undefined }) => bar.update(done, total),
    };
    const sent = options.e2e
      ? await client.uploadEncrypted(files, {
          ...settings,
          // On stderr, like every report: stdout carries only the result. Never the link, the code or the key.
          onRetry: ({ chunk, attempt }) =>
            process.stderr.write(`one-time: sending chunk ${chunk} failed; sending it again (attempt ${attempt})\n`),
        })
      : await client.upload(files, settings);
    bar.stop();
    if (options.json) out.line(JSON.stringify({ ...sent, e2e: options.e2e }));
    else {
      out.line(sent.url);
      if (options.e2e) {
        out.line('end-to-end encrypted: the key is the part after "#" (never sent to the server); share the whole link');
      } else out.line(`direct download (curl): ${sent.downloadUrl}`);
      out.line(
        `expires ${sent.expiresAt}, ${sent.downloadsLeft} download(s); revoke with: one-time revoke -- ${sent.code} ${sent.deleteToken}`,
      );
    }
  } finally {
    bar.stop();
  }
}

/**
 * Saves one download. The server only suggests a name, reduced to a safe base name in the current folder (or
 * in `-o` when that is a folder); `-o file` is the user's own choice. Existing files are kept unless `force`.
 */
export async function get(
  client: OneTimeClient,
  codeOrUrl: string,
  options: { output?: string; force: boolean },
  out: Output,
): Promise<void> {
  // Ctrl-C or a kill stops the transfer through the normal failure path, so the `.part` file is removed.
  const abort = new AbortController();
  const stop = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', stop).once('SIGTERM', stop);
  const bar = progressBar('receiving');
  try {
    const file = await client.download(codeOrUrl, {
      signal: abort.signal,
      // On stderr: stdout carries only the result line, for scripts.
      onResume: ({ from, attempt }) =>
        process.stderr.write(`one-time: connection lost; resuming at byte ${from} (attempt ${attempt})\n`),
    });
    const { output } = options;
    const intoFolder = output === undefined || (await isFolder(output));
    // `safeFileName` again although the client already applies it: this is where the write happens.
    const target = intoFolder ? join(output ?? '.', safeFileName(file.name)) : output;
    let received = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of file.stream) {
        received += chunk.length;
        bar.update(received, file.size);
        yield chunk;
      }
    }
    const saved = await saveFile(counted(), target, { force: options.force, signal: abort.signal });
    bar.stop();
    out.line(`saved ${saved} (${received} bytes)`);
  } catch (error) {
    throw abort.signal.aborted ? abort.signal.reason : error;
  } finally {
    bar.stop();
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

/** What a link points at, never using a download up; an end-to-end encrypted file's name needs the link's key. */
export async function info(client: OneTimeClient, codeOrUrl: string, out: Output): Promise<void> {
  let details: Described;
  try {
    details = await client.describe(codeOrUrl);
  } catch (error) {
    if (!(error instanceof OneTimeError) || error.code !== 'E2E_KEY_MISSING') throw error;
    const sealed = await client.info(codeOrUrl);
    out.line(
      `(name known only with the key after "#")  ${sealed.size} bytes encrypted  expires ${sealed.expiresAt}  ${sealed.downloadsLeft} download(s) left  end-to-end encrypted`,
    );
    return;
  }
  out.line(
    `${details.name}  ${details.size} bytes  ${details.contentType}  expires ${details.expiresAt}  ${details.downloadsLeft} download(s) left${details.endToEnd ? '  end-to-end encrypted' : ''}`,
  );
}

export async function revoke(client: OneTimeClient, codeOrUrl: string, token: string | undefined, out: Output): Promise<void> {
  if (!token) throw new UsageError('revoke needs the code and the delete token');
  await client.revoke(codeOrUrl, token);
  out.line('revoked');
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
