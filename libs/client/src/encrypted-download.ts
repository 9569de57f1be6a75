import {
  E2EDecryptError,
  E2EFormatError,
  E2EKeyError,
  decryptStream,
  keyFromFragment,
  openMetadata,
  type E2EMetadata,
} from '@one-time/e2e';
import { OneTimeError } from './one-time-error.ts';

const NOTHING_TAKEN = 'Nothing was downloaded.';

/**
 * The key in a link's fragment, checked against the file's sealed metadata: a missing, malformed or wrong key
 * is told apart here, before a download is used up.
 */
export async function openWithFragment(
  fragment: string | undefined,
  sealed: string,
): Promise<{ readonly key: Uint8Array; readonly meta: E2EMetadata }> {
  let key: Uint8Array;
  try {
    key = keyFromFragment(fragment ?? '');
  } catch (error) {
    if (error instanceof E2EKeyError && error.reason === 'missing') {
      throw new OneTimeError(
        'E2E_KEY_MISSING',
        `This file is end-to-end encrypted and the link has no key: use the whole link, including the part after "#". ${NOTHING_TAKEN}`,
        { cause: error },
      );
    }
    throw new OneTimeError(
      'E2E_KEY_WRONG',
      `The key in the link is damaged (not 22 characters after "#"): check that the whole link was copied. ${NOTHING_TAKEN}`,
      { cause: error },
    );
  }
  try {
    return { key, meta: await openMetadata(key, sealed) };
  } catch (error) {
    if (error instanceof E2EKeyError) {
      throw new OneTimeError(
        'E2E_KEY_WRONG',
        `The key in the link does not open this file: check that the whole link was copied. ${NOTHING_TAKEN}`,
        { cause: error },
      );
    }
    if (error instanceof E2EFormatError) {
      throw new OneTimeError(
        'E2E_DECRYPT_FAILED',
        `The file's encrypted details are damaged; it cannot be opened. ${NOTHING_TAKEN}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

/**
 * The plaintext of a ciphertext stream, released record by record once each is authenticated. Ends with an
 * `E2E_DECRYPT_FAILED` error (everything delivered before it is void) if a record does not decrypt, the
 * content is cut short, or it is not exactly the `size` bytes the sealed metadata promised.
 */
export function decrypting(ciphertext: ReadableStream<Uint8Array>, key: Uint8Array, size: number): ReadableStream<Uint8Array> {
  // A little slack on both sides of the decryption (BUFFERED bytes each), so receiving, decrypting and
  // writing overlap instead of taking turns.
  const reader = ciphertext.pipeThrough(buffer()).pipeThrough(decryptStream(key)).pipeThrough(buffer()).getReader();
  let received = 0;
  const failed = (detail: string, cause?: unknown) =>
    new OneTimeError('E2E_DECRYPT_FAILED', `The file could not be decrypted: ${detail}. What was received is void.`, {
      ...(cause === undefined ? {} : { cause }),
    });
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (error) {
          throw error instanceof E2EDecryptError ? failed(decryptProblem(error), error) : error;
        }
        if (next.done) {
          if (received !== size) throw failed(`it holds ${received} bytes instead of ${size}`);
          controller.close();
          return;
        }
        received += next.value.length;
        if (received > size) throw failed(`it holds more than the ${size} bytes it should`);
        controller.enqueue(next.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

const BUFFERED = 1024 * 1024;

function buffer(): TransformStream<Uint8Array, Uint8Array> {
  const bytes = { highWaterMark: BUFFERED, size: (chunk: Uint8Array) => chunk.byteLength };
  return new TransformStream<Uint8Array, Uint8Array>({}, bytes, bytes);
}

function decryptProblem(error: E2EDecryptError): string {
  switch (error.reason) {
    case 'truncated':
      return 'it ends too early';
    case 'tampered':
      return 'it was damaged or changed on the way';
    case 'format':
      return 'it is not in the expected format';
  }
}
