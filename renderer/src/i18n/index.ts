// The dictionary module: the current language (remembered across launches), `t` to look a key up
// with `{placeholders}` filled in, and number/size/duration formatting that follows the language.
import { useCallback } from 'react';
import { create } from 'zustand';
import { en, type Dictionary, type MessageKey } from './en';
import { ko } from './ko';

export type { MessageKey } from './en';

export const dictionaries = { en, ko } as const satisfies Record<string, Dictionary>;
export type Language = keyof typeof dictionaries;
export const languages: readonly Language[] = ['en', 'ko'];

const STORAGE_KEY = 'onggi.language';

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.hasOwn(dictionaries, value);
}

/** The saved choice, else the OS/browser language when we speak it, else English. */
export function initialLanguage(): Language {
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (isLanguage(saved)) return saved;
  } catch {
    // Storage can be unavailable (privacy settings); the default is fine.
  }
  const preferred = globalThis.navigator?.languages ?? [];
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

export type Vars = Readonly<Record<string, string | number>>;

/**
 * `{name}` is the value; `{name|one|other}` is the word for it, by the language's plural rules
 * (English: "1 image", "2 images"). A value may come formatted ("1,234"): its digits count.
 */
export function translate(language: Language, key: MessageKey, vars?: Vars): string {
  const template: string = dictionaries[language][key];
  if (!vars) return template;
  return template
    .replace(/\{(\w+)\|([^|{}]*)\|([^|{}]*)\}/g, (whole, name: string, one: string, other: string) => {
      if (!Object.hasOwn(vars, name)) return whole;
      const value = vars[name];
      const count = typeof value === 'number' ? value : Number(String(value).replace(/[^\d.-]/g, ''));
      return new Intl.PluralRules(language).select(count) === 'one' ? one : other;
    })
    .replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : whole));
}

export type Translate = (key: MessageKey, vars?: Vars) => string;

interface LanguageState {
  language: Language;
  setLanguage: (language: Language) => void;
}

export const useLanguageStore = create<LanguageState>()((set) => ({
  language: initialLanguage(),
  setLanguage: (language) => {
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, language);
    } catch {
      // Not remembered, still applied.
    }
    set({ language });
  },
}));

export function useLanguage(): Language {
  return useLanguageStore((state) => state.language);
}

export function useT(): Translate {
  const language = useLanguage();
  return useCallback<Translate>((key, vars) => translate(language, key, vars), [language]);
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export function formatNumber(language: Language, value: number, maximumFractionDigits = 0): string {
  return new Intl.NumberFormat(language, { maximumFractionDigits }).format(value);
}

/** Binary units, as the kernel counts: `31.3 GiB`. */
export function formatBytes(language: Language, bytes: number): string {
  if (bytes >= GIB) return `${formatNumber(language, bytes / GIB, 1)} GiB`;
  if (bytes >= MIB) return `${formatNumber(language, bytes / MIB, 1)} MiB`;
  if (bytes >= 1024) return `${formatNumber(language, bytes / 1024, 1)} KiB`;
  return `${formatNumber(language, bytes)} B`;
}

/** The two largest non-zero units: `3 d 4 h`, `12 min 5 s`, `3일 4시간`. */
export function formatDuration(language: Language, totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const parts: [MessageKey, number][] = [
    ['duration.days', Math.floor(seconds / 86_400)],
    ['duration.hours', Math.floor((seconds % 86_400) / 3_600)],
    ['duration.minutes', Math.floor((seconds % 3_600) / 60)],
    ['duration.seconds', seconds % 60],
  ];
  const first = parts.findIndex(([, count]) => count > 0);
  if (first === -1) return translate(language, 'duration.seconds', { count: 0 });
  return parts
    .slice(first, first + 2)
    .filter(([, count]) => count > 0)
    .map(([key, count]) => translate(language, key, { count: formatNumber(language, count) }))
    .join(' ');
}

export function formatDateTime(language: Language, iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** A wall-clock time with seconds: `10:53:07`, `오전 10:53:07`. */
export function formatTime(language: Language, at: number | string): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return String(at);
  return new Intl.DateTimeFormat(language, { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(date);
}

/** A log line's time, to the millisecond, in the local zone: `10:53:07.412`. */
export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (value: number, size = 2): string => String(value).padStart(size, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** How long a step took: `0.4 ms`, `12 ms`, `1.3 s`. */
export function formatMilliseconds(language: Language, ms: number): string {
  if (ms < 10) return `${formatNumber(language, ms, 1)} ms`;
  if (ms < 1000) return `${formatNumber(language, ms)} ms`;
  return `${formatNumber(language, ms / 1000, 1)} s`;
}

/** How long ago: `5 s ago`, `3 min ago`, `2 d ago` (in the language's own words). */
export function formatAgo(language: Language, iso: string, now: number = Date.now()): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((then - now) / 1000);
  const format = new Intl.RelativeTimeFormat(language, { numeric: 'auto', style: 'short' });
  const abs = Math.abs(seconds);
  if (abs < 60) return format.format(seconds, 'second');
  if (abs < 3_600) return format.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return format.format(Math.round(seconds / 3_600), 'hour');
  return format.format(Math.round(seconds / 86_400), 'day');
}

/** Bytes per second: `2.4 MiB/s`. */
export function formatRate(language: Language, bytesPerSecond: number): string {
  return `${formatBytes(language, bytesPerSecond)}/s`;
}
