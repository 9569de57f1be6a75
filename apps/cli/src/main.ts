#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { OneTimeError, createOneTimeClient } from '@one-time/client';
import { UsageError, get, info, revoke, send, type Output } from './commands.ts';

const USAGE = `usage:
  one-time send <files…> [--ttl 1h] [--downloads 1] [--json] [--no-e2e]
  one-time get <link|code> [-o file|folder] [--force]
  one-time info <link|code>
  one-time revoke <link|code> <delete-token>
options: --server <url> (or ONE_TIME_URL; default http://127.0.0.1:3000)
send encrypts the files here, end to end (several are zipped first, as files.zip): the server never sees
their content or names. The link it prints carries the key after "#": share the whole link, which is the
only copy of the key. --no-e2e sends them the old way instead, encrypted by the server, with a direct
/download/<code> link that curl can fetch.
get decrypts such a file here (it needs the whole link, key included; without it nothing is downloaded).
It saves under the file's name, made safe, in the current folder (or the -o folder). It never replaces
a file: "x.txt" becomes "x (1).txt", "x (2).txt", … unless -f/--force is given.
Codes and tokens may start with "-": put -- before them, e.g. one-time get -- -AbC…`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    allowNegative: true,
    options: {
      server: { type: 'string' },
      ttl: { type: 'string' },
      downloads: { type: 'string' },
      json: { type: 'boolean', default: false },
      e2e: { type: 'boolean', default: true },
      output: { type: 'string', short: 'o' },
      force: { type: 'boolean', short: 'f', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    if (command === undefined && !values.help) process.exitCode = 2;
    return;
  }
  const client = createOneTimeClient({ baseUrl: values.server ?? process.env.ONE_TIME_URL ?? 'http://127.0.0.1:3000' });
  const out: Output = { line: (text) => process.stdout.write(`${text}\n`) };
  const downloads = values.downloads === undefined ? undefined : Number(values.downloads);
  if (downloads !== undefined && !Number.isInteger(downloads)) throw new UsageError('--downloads takes a whole number');
  switch (command) {
    case 'send':
      return send(
        client,
        args,
        {
          ...(values.ttl === undefined ? {} : { ttl: values.ttl }),
          ...(downloads === undefined ? {} : { downloads }),
          json: values.json,
          e2e: values.e2e,
        },
        out,
      );
    case 'get':
      if (!args[0]) throw new UsageError('get needs a code or a link');
      return get(client, args[0], { output: values.output, force: values.force }, out);
    case 'info':
      if (!args[0]) throw new UsageError('info needs a code or a link');
      return info(client, args[0], out);
    case 'revoke':
      if (!args[0]) throw new UsageError('revoke needs the code and the delete token');
      return revoke(client, args[0], args[1], out);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // One line, no stack: the server's message (with its code) or what went wrong here.
  const message =
    error instanceof OneTimeError
      ? `${error.message} (${error.code})`
      : error instanceof UsageError
        ? `${error.message}\n${USAGE}`
        : error instanceof Error
          ? error.message
          : String(error);
  process.stderr.write(`one-time: ${message}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
