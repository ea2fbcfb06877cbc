// `WWW-Authenticate` challenges (RFC 7235): `Bearer realm="…",service="…",scope="…"` or
// `Basic realm="…"`. A header may carry several challenges; parameters may be quoted with escapes.

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`. */
  scheme: string;
  /** Lower-cased parameter names. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const n = header.length;
  let i = 0;
  const skip = (chars: string): void => {
    while (i < n && chars.includes(header[i] ?? '')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(header[i] ?? '')) i++;
    return header.slice(start, i);
  };
  /** Is a `name=` (a parameter, not a token68 ending in `=`) at i? Does not move i. */
  const paramAhead = (): boolean => {
    const save = i;
    skip(' \t');
    const name = token();
    skip(' \t');
    const result = name.length > 0 && header[i] === '=' && header[i + 1] !== '=';
    i = save;
    return result;
  };

  while (i < n) {
    skip(' \t,');
    const scheme = token();
    if (!scheme) {
      if (i < n) i++; // an unexpected character: skip it rather than loop forever
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skip(' \t');
    if (i < n && header[i] !== ',' && !paramAhead()) {
      // token68, e.g. `Negotiate abc==`
      const start = i;
      while (i < n && header[i] !== ',' && header[i] !== ' ') i++;
      challenge.params[''] = header.slice(start, i);
      continue;
    }
    while (i < n) {
      skip(' \t');
      if (!paramAhead()) break;
      const name = token().toLowerCase();
      skip(' \t');
      i++; // '='
      skip(' \t');
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++; // the closing quote
      } else {
        const start = i;
        while (i < n && header[i] !== ',' && header[i] !== ' ' && header[i] !== '\t') i++;
        value = header.slice(start, i);
      }
      challenge.params[name] = value;
      skip(' \t');
      if (header[i] !== ',') break;
      i++;
      // After a comma comes either another parameter or the next challenge's scheme.
      skip(' \t,');
      if (!paramAhead()) break;
    }
  }
  return challenges;
}
