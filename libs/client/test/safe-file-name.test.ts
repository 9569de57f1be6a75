import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FALLBACK_FILE_NAME, createOneTimeClient, fileNameOf, safeFileName } from '../src/index.ts';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('safeFileName: what a hostile server may not choose', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['/etc/passwd', 'passwd'],
    ['..\\..\\Windows\\win.ini', 'win.ini'],
    ['C:\\Users\\x\\evil.exe', 'evil.exe'],
    ['dir/', FALLBACK_FILE_NAME],
    ['..', FALLBACK_FILE_NAME],
    ['.', FALLBACK_FILE_NAME],
    ['....', FALLBACK_FILE_NAME],
    ['', FALLBACK_FILE_NAME],
    ['.bashrc', 'bashrc'],
    ['..hidden.txt', 'hidden.txt'],
    ['  . spaced .txt . ', 'spaced .txt'],
    ['name.', 'name'],
    ['a\u0000b', 'a_b'],
    ['a\nb\r\tc.txt', 'a_b__c.txt'],
    ['\u001b[31mred\u001b[0m.txt', '_[31mred_[0m.txt'],
    ['del\u007f.txt', 'del_.txt'],
    ['c1\u0085\u009b.txt', 'c1__.txt'],
    ['invoice\u202etxt.exe', 'invoice_txt.exe'],
    ['lone\ud800.txt', 'lone_.txt'],
    ['a:b<c>d|e?f*g"h.txt', 'a_b_c_d_e_f_g_h.txt'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['nul.tar.gz', '_nul.tar.gz'],
    ['Com1', '_Com1'],
    ['LPT9.log', '_LPT9.log'],
    ['CON .txt', '_CON .txt'],
    ['console.txt', 'console.txt'],
    ['COM10', 'COM10'],
    ['résumé 2024.pdf', 'résumé 2024.pdf'],
    ['report.final.pdf', 'report.final.pdf'],
  ])('%j → %j', (hostile, safe) => {
    expect(safeFileName(hostile)).toBe(safe);
  });

  it('caps long names at 200 bytes of UTF-8, keeping the extension and whole characters', () => {
    const long = safeFileName(`${'a'.repeat(1000)}.txt`);
    expect(long).toBe(`${'a'.repeat(196)}.txt`);
    const wide = safeFileName(`${'é'.repeat(300)}${'😀'.repeat(100)}.pdf`);
    expect(bytes(wide)).toBeLessThanOrEqual(200);
    expect(wide).toMatch(/^é+\.pdf$/);
    expect(wide).not.toContain('\ufffd');
    const emoji = safeFileName(`${'😀'.repeat(100)}.pdf`);
    expect(emoji).toBe(`${'😀'.repeat(49)}.pdf`);
    // An "extension" as long as the name is no extension: the name is cut, not emptied.
    const noExtension = safeFileName(`x.${'b'.repeat(1000)}`);
    expect(noExtension).toBe(`x.${'b'.repeat(198)}`);
    // A cut that ends on dots or spaces must not bring back a trailing dot.
    expect(safeFileName(`${'a'.repeat(199)}. ${'b'.repeat(50)}`)).toBe('a'.repeat(199));
  });

  it('is idempotent and takes another fallback', () => {
    for (const name of ['../../x', 'CON.txt', `${'z'.repeat(500)}.md`, '\u0001', '.env']) {
      expect(safeFileName(safeFileName(name))).toBe(safeFileName(name));
    }
    expect(safeFileName('/..', 'file.bin')).toBe('file.bin');
  });
});

describe('fileNameOf: Content-Disposition headers from a hostile server', () => {
  it.each([
    [`attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd`, 'passwd'],
    [`attachment; filename="../../x"`, 'x'],
    [`attachment; filename=../../bare`, 'bare'],
    [`attachment; filename="..\\\\..\\\\win.txt"`, 'win.txt'],
    [`attachment; filename*=UTF-8''%2e%2e`, FALLBACK_FILE_NAME],
    [`attachment; filename*=UTF-8''%2e%2e%2f%2e%2e%2f`, FALLBACK_FILE_NAME],
    [`attachment; filename*=utf-8'en'%2Ebashrc`, 'bashrc'],
    [`attachment; filename*=UTF-8''a%00b%0Ac%1B%7F%C2%85.txt`, 'a_b_c___.txt'],
    [`attachment; filename="ok.txt"; filename*=UTF-8''%E0%A4%A`, 'ok.txt'],
    [`attachment; filename*=UTF-8''%zz`, FALLBACK_FILE_NAME],
    [`attachment; filename*=UTF-8''%`, FALLBACK_FILE_NAME],
    [`attachment; filename="...."`, FALLBACK_FILE_NAME],
    [`attachment; filename="a \\"quoted\\" name.txt"`, 'a _quoted_ name.txt'],
    [`attachment; filename="unterminated`, '_unterminated'],
    [`attachment; filename="x.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`, 'résumé.pdf'],
    [`attachment`, FALLBACK_FILE_NAME],
    [`attachment; notfilename="x.txt"`, FALLBACK_FILE_NAME],
  ])('%s → %j', (header, safe) => {
    expect(fileNameOf(header)).toBe(safe);
  });

  it('handles no header and a 1,000-character name', () => {
    expect(fileNameOf(null)).toBe(FALLBACK_FILE_NAME);
    const name = fileNameOf(`attachment; filename*=UTF-8''${encodeURIComponent('ü'.repeat(1000))}.zip`);
    expect(name).toMatch(/^ü+\.zip$/);
    expect(bytes(name)).toBeLessThanOrEqual(200);
  });
});

describe('client.download against a server that lies about the name', () => {
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url?.startsWith('/trpc/file.info')) {
        response.end(JSON.stringify({ result: { data: { e2e: null } } })); // not end-to-end encrypted
        return;
      }
      response.setHeader('content-disposition', `attachment; filename*=UTF-8''..%2F..%2F.ssh%2Fauthorized_keys`);
      response.end('ssh-ed25519 AAAA attacker');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('exposes only the safe base name', async () => {
    const file = await createOneTimeClient({ baseUrl }).download('AAAAAAAAAAAAAAAAAAAAAA');
    expect(file.name).toBe('authorized_keys');
    expect(await new Response(file.stream).text()).toBe('ssh-ed25519 AAAA attacker');
  });
});
