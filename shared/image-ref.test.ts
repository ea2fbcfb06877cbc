// Image references as Docker users type them, normalized the way the image store names images.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ImageRefError, familiarImageRef, formatImageRef, parseImageRef } from './image-ref.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseImageRef', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['myhost/app', 'docker.io/myhost/app:latest', 'myhost/app:latest'], // no dot, no port: a namespace
    ['myhost:5000/app', 'myhost:5000/app:latest', 'myhost:5000/app:latest'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/a/b/c:v1.2_x-y', 'localhost:5000/a/b/c:v1.2_x-y', 'localhost:5000/a/b/c:v1.2_x-y'],
    ['127.0.0.1:5000/busybox', '127.0.0.1:5000/busybox:latest', '127.0.0.1:5000/busybox:latest'],
    ['[::1]:5000/busybox', '[::1]:5000/busybox:latest', '[::1]:5000/busybox:latest'],
    ['ghcr.io/org/app:v1', 'ghcr.io/org/app:v1', 'ghcr.io/org/app:v1'],
    ['docker.io/ab.c/f', 'docker.io/ab.c/f:latest', 'docker.io/ab.c/f:latest'], // keeps docker.io: `ab.c/f` would name a registry
    ['a-b__c/d', 'docker.io/a-b__c/d:latest', 'a-b__c/d:latest'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`, `busybox:1@${D}`],
    [`127.0.0.1:5000/x@${D}`, `127.0.0.1:5000/x@${D}`, `127.0.0.1:5000/x@${D}`],
  ])('%s → %s', (input, canonical, familiar) => {
    const ref = parseImageRef(input);
    expect(formatImageRef(ref)).toBe(canonical);
    expect(familiarImageRef(ref)).toBe(familiar);
  });

  it('leaves the tag undefined when only a digest is given', () => {
    expect(parseImageRef(`busybox@${D}`)).toEqual({ registry: 'docker.io', repository: 'library/busybox', tag: undefined, digest: D });
  });

  it.each([
    '',
    'Busybox',
    'UPPER/case',
    'a//b',
    'busybox:',
    ':latest',
    'busybox@sha256:abc',
    `busybox@md5:${'a'.repeat(32)}`,
    'busybox:-bad',
    `busybox:${'t'.repeat(129)}`,
    'a/../b',
    '../etc/passwd',
    'a b',
    'a/b/',
    '-leading',
    'trailing-',
    'bad_host!:5000/x',
    'a.b-c__d/e', // a first part with a dot is a registry host, and this is not a valid one
    'x'.repeat(513),
  ])('refuses %j', (input) => {
    expect(() => parseImageRef(input)).toThrow(ImageRefError);
  });

  const component = fc.stringMatching(/^[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,6}){0,2}$/);
  const refArb = fc.record({
    registry: fc.constantFrom(undefined, 'docker.io', 'ghcr.io', 'localhost:5000', '127.0.0.1:5000', 'registry.example.com'),
    path: fc.array(component, { minLength: 1, maxLength: 3 }),
    tag: fc.option(fc.stringMatching(/^\w[\w.-]{0,20}$/), { nil: undefined }),
    digest: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
  });

  it('round-trips: the canonical and familiar forms parse back to the same reference', () => {
    fc.assert(
      fc.property(refArb, ({ registry, path, tag, digest }) => {
        // Without a registry, a first part with a dot would itself be read as one: not this property's case.
        fc.pre(registry !== undefined || path.length === 1 || !(path[0] ?? '').includes('.'));
        const text = `${registry ? `${registry}/` : ''}${path.join('/')}${tag ? `:${tag}` : ''}${digest ? `@sha256:${digest}` : ''}`;
        const ref = parseImageRef(text);
        expect(parseImageRef(formatImageRef(ref))).toEqual(ref);
        expect(parseImageRef(familiarImageRef(ref))).toEqual(ref);
        expect(formatImageRef(parseImageRef(formatImageRef(ref)))).toBe(formatImageRef(ref));
      }),
    );
  });

  it('never throws anything but ImageRefError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        try {
          parseImageRef(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ImageRefError);
        }
      }),
    );
  });
});
