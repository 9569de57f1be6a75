import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { OneTimeClient } from '@one-time/client';
import { progressBar } from './progress.ts';

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

/** Writes to a temporary name first, so a cut-off download never leaves a file that looks whole. */
export async function get(client: OneTimeClient, codeOrUrl: string, output: string | undefined, out: Output): Promise<void> {
  const file = await client.download(codeOrUrl);
  const target = output ?? file.name;
  const partial = `${target}.part`;
  const bar = progressBar('receiving');
  let received = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      bar.update(received, file.size);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(file.stream as WebReadableStream<Uint8Array>),
      count,
      createWriteStream(partial, { flags: 'wx' }),
    );
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    bar.stop();
  }
  out.line(`saved ${target} (${received} bytes)`);
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
