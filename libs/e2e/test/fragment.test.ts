import { describe, expect, it } from 'vitest';
import { E2EKeyError, generateKey, keyFromFragment, keyToFragment } from '../src/index.ts';

const reasonOf = (run: () => unknown): string => {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return error instanceof E2EKeyError ? error.reason : `other: ${String(error)}`;
  }
};

describe('keys and fragments', () => {
  it('generates 16 random bytes', () => {
    const keys = Array.from({ length: 50 }, () => generateKey());
    expect(keys.every((key) => key instanceof Uint8Array && key.length === 16)).toBe(true);
    expect(new Set(keys.map((key) => keyToFragment(key))).size).toBe(50);
  });

  it('encodes a key as 22 base64url characters and reads it back, with or without #', () => {
    for (let i = 0; i < 200; i++) {
      const key = generateKey();
      const fragment = keyToFragment(key);
      expect(fragment).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(keyFromFragment(fragment)).toEqual(key);
      expect(keyFromFragment(`#${fragment}`)).toEqual(key);
    }
    expect(keyToFragment(new Uint8Array(16).fill(0xff))).toBe('_____________________w');
    expect(keyToFragment(Uint8Array.from({ length: 16 }, (_, i) => i * 16 + 15))).toBe('Dx8vP09fb3-Pn6-_z9_v_w');
  });

  it('says "missing" for an empty fragment', () => {
    expect(reasonOf(() => keyFromFragment(''))).toBe('missing');
    expect(reasonOf(() => keyFromFragment('#'))).toBe('missing');
  });

  it('says "malformed" for anything but 22 canonical base64url characters', () => {
    const good = keyToFragment(generateKey());
    for (const bad of [
      good.slice(0, 21),
      `${good}A`,
      `${good}==`,
      `${good.slice(0, 21)}=`,
      `${good.slice(0, 10)}+${good.slice(11)}`,
      `${good.slice(0, 10)}/${good.slice(11)}`,
      `${good.slice(0, 10)} ${good.slice(11)}`,
      ` ${good}`,
      `##${good}`,
      `${good.slice(0, 21)}B`, // non-zero unused bits: a second spelling of some key
      'key=' + good,
      'é'.repeat(22),
    ]) {
      expect(
        reasonOf(() => keyFromFragment(bad)),
        JSON.stringify(bad),
      ).toBe('malformed');
    }
  });

  it('refuses to encode a key that is not 16 bytes', () => {
    expect(reasonOf(() => keyToFragment(new Uint8Array(15)))).toBe('malformed');
    expect(reasonOf(() => keyToFragment(new Uint8Array(32)))).toBe('malformed');
  });

  it('E2EKeyError is an Error with a name and a reason', () => {
    const error = new E2EKeyError('wrong', 'x');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('E2EKeyError');
    expect(error.reason).toBe('wrong');
  });
});
