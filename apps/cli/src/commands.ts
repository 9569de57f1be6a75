import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { safeFileName, type OneTimeClient } from '@one-time/client';
import { progressBar } from './progress.ts';
import { saveFile } from './save-file.ts';

export interface Output {
  line(text: string): void;
}

export async function send(
  client: OneTimeClient,
  files: string[],
  options: { ttl?: string; downloads?: number; json: boolean },
  out: Output,
): Promise<void> {
  if (files.length === 0) throw new UsageError('send needs at least one file');
  const bar = progressBar('sending');
  try {
    const sent = await client.upload(files, {
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
      ...(options.downloads === undefined ? {} : { downloads: options.downloads }),
      onProgress: ({ sent: done, total }) => bar.update(done, total),
    });
    bar.stop();
    if (options.json) out.line(JSON.stringify(sent));
    else {
      out.line(sent.url);
      out.line(`direct download (curl): ${sent.downloadUrl}`);
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

export async function info(client: OneTimeClient, codeOrUrl: string, out: Output): Promise<void> {
  const details = await client.info(codeOrUrl);
  out.line(
    `${details.name}  ${details.size ?? '?'} bytes  ${details.contentType}  expires ${details.expiresAt}  ${details.downloadsLeft} download(s) left`,
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
