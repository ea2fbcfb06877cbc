import type { ActivityEntry } from './agent-rpc.js';

/** How an activity entry reads in the CLI, the window and "copy as shell script". */
export function formatActivity(entry: Pick<ActivityEntry, 'kind' | 'argv' | 'path' | 'value'>): string {
  if (entry.kind === 'write') return `echo ${shellQuote(entry.value ?? '')} > ${shellQuote(entry.path ?? '')}`;
  return (entry.argv ?? []).map(shellQuote).join(' ');
}

/** Quotes for display only: nothing the agent runs is ever built from this. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
