import { describe, expect, it } from 'vitest';
import { numbered } from '../src/save-file.ts';

const first = (path: string, count: number) => Array.from(numbered(path)).slice(0, count);

describe('numbered: the names tried when a file exists', () => {
  it('numbers before the extension, as browsers do, keeping .tar.* whole', () => {
    expect(first('x.txt', 3)).toEqual(['x.txt', 'x (1).txt', 'x (2).txt']);
    expect(first('dir/archive.tar.gz', 2)).toEqual(['dir/archive.tar.gz', 'dir/archive (1).tar.gz']);
    expect(first('report.final.pdf', 2)).toEqual(['report.final.pdf', 'report.final (1).pdf']);
    expect(first('README', 2)).toEqual(['README', 'README (1)']);
    expect(first('x.txt.part', 2)).toEqual(['x.txt.part', 'x.txt (1).part']);
  });

  it('gives up after a bounded number of tries', () => {
    expect(Array.from(numbered('x.txt'))).toHaveLength(1000);
  });
});
