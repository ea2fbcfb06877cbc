// String order for sorting in the agent. `localeCompare` instantiates ICU's collator on its first
// call, which pages its collation data in for the life of the process: an idle agent that had
// listed two containers (the window lists them on every connect) settled at 61.7-62.0 MiB RSS
// against 59.6 without it, on the Node 24 deploy ships (bench case 5's idle, plus that list;
// issue 12). The agent sorts ISO timestamps, names and paths: code-unit order is the order those
// need (for names and paths it is also Docker's, a byte-wise sort).
/** Compares `a` and `b` by UTF-16 code units, as `Array.prototype.sort` does without a comparator. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
