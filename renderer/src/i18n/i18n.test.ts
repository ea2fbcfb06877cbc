/// <reference types="node" />
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dictionaries, formatBytes, formatDuration, languages, translate } from './index';

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '').sort();

describe('dictionaries', () => {
  const reference = dictionaries.en as Record<string, string>;

  for (const language of languages) {
    const dictionary = dictionaries[language] as Record<string, string>;

    it(`${language} has every key the others have, and no more`, () => {
      for (const other of languages) {
        const otherKeys = Object.keys(dictionaries[other]);
        const missing = otherKeys.filter((key) => !Object.hasOwn(dictionary, key));
        expect(missing, `keys in ${other} missing from ${language}`).toEqual([]);
      }
    });

    it(`${language} has no empty strings`, () => {
      const empty = Object.entries(dictionary).filter(([, text]) => text.trim() === '');
      expect(empty.map(([key]) => key)).toEqual([]);
    });

    it(`${language} uses the same {placeholders} as English`, () => {
      const mismatched = Object.keys(reference).filter(
        (key) => JSON.stringify(placeholders(reference[key] ?? '')) !== JSON.stringify(placeholders(dictionary[key] ?? '')),
      );
      expect(mismatched).toEqual([]);
    });
  }

  it('knows every key the source code asks for', () => {
    // A key typed as a plain string (or built at run time) escapes the type checker; this does not.
    const root = join(import.meta.dirname, '..');
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) files.push(path);
      }
    };
    walk(root);
    const used = new Set<string>();
    for (const file of files) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(match[1] ?? '');
    }
    expect(used.size).toBeGreaterThan(10);
    for (const language of languages) {
      const missing = [...used].filter((key) => !Object.hasOwn(dictionaries[language], key));
      expect(missing, `keys used in code but missing from ${language}`).toEqual([]);
    }
  });
});

describe('translate', () => {
  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'machines.listError', { message: 'boom' })).toBe('Could not list machines: boom');
    expect(translate('ko', 'machines.listError', { message: 'boom' })).toBe('머신 목록을 가져오지 못했습니다: boom');
    expect(translate('en', 'machines.listError')).toBe('Could not list machines: {message}');
  });

  it('says "1 image", not "1 images": a count\'s word follows the language\'s plural rules', () => {
    expect(translate('en', 'images.import.done', { count: 1 })).toBe('Imported 1 image');
    expect(translate('en', 'images.import.done', { count: 2 })).toBe('Imported 2 images');
    expect(translate('en', 'images.summary', { count: '1,234', size: '1 GB' })).toBe('1,234 images, 1 GB in total');
    expect(translate('en', 'disk.done', { containers: 1, images: 0, size: '0 B' })).toBe('Removed 1 container and 0 images; freed 0 B');
    expect(translate('ko', 'images.import.done', { count: 1 })).toBe('이미지 1개를 가져왔습니다');
  });

  it('has no English count with its noun written plural only', () => {
    // "{count} images" reads "1 images"; the noun takes the {count|image|images} form.
    const plainPlural = Object.entries(dictionaries.en).filter(([, text]) =>
      /\{(?:count|total|shown|containers|images|volumes)\} (?:[a-z]+s|\w+\(s\))\b/.test(text),
    );
    expect(plainPlural.map(([key]) => key)).toEqual(['containers.confirm.kill.many', 'containers.confirm.remove.many']);
  });
});

describe('formatting', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes('en', 512)).toBe('512 B');
    expect(formatBytes('en', 256 * 1024 ** 2)).toBe('256 MiB');
    expect(formatBytes('en', 33_554_432_000)).toBe('31.3 GiB');
  });

  it('formats durations with the two largest units', () => {
    expect(formatDuration('en', 0)).toBe('0 s');
    expect(formatDuration('en', 59)).toBe('59 s');
    expect(formatDuration('en', 3 * 86_400 + 4 * 3_600 + 12 * 60)).toBe('3 d 4 h');
    expect(formatDuration('en', 3 * 86_400 + 12 * 60)).toBe('3 d');
    expect(formatDuration('ko', 2 * 3_600 + 5 * 60 + 1)).toBe('2시간 5분');
  });
});
