import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWwwAuthenticate } from './www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it("parses Docker Hub's Bearer challenge", () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
      },
    ]);
  });

  it('parses Basic, unquoted values, spaces, escapes and several challenges', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    expect(parseWwwAuthenticate('Bearer realm=https://r/token , service = reg ,scope="a b"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://r/token', service: 'reg', scope: 'a b' } },
    ]);
    expect(parseWwwAuthenticate('Bearer realm="a\\"b"')).toEqual([{ scheme: 'bearer', params: { realm: 'a"b' } }]);
    expect(parseWwwAuthenticate('Negotiate abc==, Basic realm="x", Bearer realm="https://t",service="s"')).toEqual([
      { scheme: 'negotiate', params: { '': 'abc==' } },
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'https://t', service: 's' } },
    ]);
    expect(parseWwwAuthenticate('')).toEqual([]);
  });

  it('never throws or hangs, whatever the header', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (header) => {
        expect(Array.isArray(parseWwwAuthenticate(header))).toBe(true);
      }),
    );
  });
});
