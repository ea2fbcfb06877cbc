// `onggi image prune`, `onggi container prune`, `onggi system df`, `onggi system prune`: Docker's
// verbs for seeing disk use and removing what nothing uses. Without -f they first show what would
// go (a dry run on the machine) and ask, as Docker does; a "no" or end of input removes nothing.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { DiskUsage, DiskUsageType, PruneResult } from '../../../shared/disk-usage.js';
import { formatBytes, formatTable } from '../format.js';
import { printJson, withSession, type Session } from '../session.js';

type PruneMethod = 'images.prune' | 'containers.prune' | 'system.prune';

const TYPE_LABEL: Record<DiskUsageType, string> = {
  images: 'Images',
  containers: 'Containers',
  logs: 'Container logs',
  volumes: 'Local Volumes',
};

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // End of input (a script without -f) is a "no".
  const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
  const answer = await Promise.race([rl.question(question), closed]);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** What a prune will remove, in the words Docker's warning uses. */
export function describePlan(plan: PruneResult): string {
  const lines = [
    ...plan.containers.map((c) => `  container ${c.name} (${c.id.slice(0, 12)})`),
    ...plan.images.map((i) => `  image ${i.names.join(', ') || '<none>'} (${i.id.slice(7, 19)})`),
    ...(plan.volumes ?? []).map((name) => `  volume ${name}`),
  ];
  if (lines.length === 0) return 'Nothing to remove.\n';
  return `This will remove:\n${lines.join('\n')}\nand free ${formatBytes(plan.reclaimed)}.\n`;
}

export function formatPruneResult(result: PruneResult): string {
  let text = '';
  if (result.containers.length > 0) text += `Deleted Containers:\n${result.containers.map((c) => `${c.id}\n`).join('')}\n`;
  if (result.images.length > 0)
    text += `Deleted Images:\n${result.images.map((i) => [...i.names.map((n) => `untagged: ${n}\n`), `deleted: ${i.id}\n`].join('')).join('')}\n`;
  if (result.volumes?.length) text += `Deleted Volumes:\n${result.volumes.map((name) => `${name}\n`).join('')}\n`;
  return `${text}Total reclaimed space: ${formatBytes(result.reclaimed)}\n`;
}

function pruneAction(method: PruneMethod) {
  return (options: { force?: boolean; all?: boolean; volumes?: boolean }, cmd: Command) =>
    withSession(cmd, async ({ api, machine }: Session) => {
      const all = method === 'containers.prune' ? {} : { all: options.all === true };
      if (method === 'system.prune' && options.volumes) Object.assign(all, { volumes: true });
      if (!options.force) {
        const plan = await api.call(method, { machine, ...all, dryRun: true });
        process.stderr.write(describePlan(plan));
        if (plan.containers.length + plan.images.length + (plan.volumes?.length ?? 0) === 0) return;
        if (!(await confirm('Are you sure you want to continue? [y/N] '))) return;
      }
      process.stdout.write(formatPruneResult(await api.call(method, { machine, ...all })));
    });
}

export function registerImagePrune(image: Command): void {
  image
    .command('prune')
    .description('remove dangling images (no name, no container); with -a every image no container uses')
    .option('-a, --all', 'remove every image no container uses')
    .option('-f, --force', 'do not ask for confirmation')
    .action(pruneAction('images.prune'));
}

export function formatDiskUsage(usage: DiskUsage, verbose: boolean): string {
  const percent = (part: number, whole: number) => (whole > 0 ? ` (${Math.round((part / whole) * 100)}%)` : '');
  let text = formatTable([
    ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
    ...usage.rows.map((r) => [
      TYPE_LABEL[r.type],
      String(r.total),
      String(r.active),
      formatBytes(r.size),
      `${formatBytes(r.reclaimable)}${percent(r.reclaimable, r.size)}`,
    ]),
  ]);
  if (!verbose) return text;
  text += `\nImages space usage:\n\n${formatTable([
    ['REPOSITORY:TAG', 'IMAGE ID', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'],
    ...usage.images.map((i) => [
      i.names.join(', ') || '<none>',
      i.id.slice(7, 19),
      formatBytes(i.size),
      formatBytes(i.shared),
      formatBytes(i.size - i.shared),
      String(i.containers),
    ]),
  ])}`;
  text += `\nContainers space usage:\n\n${formatTable([
    ['CONTAINER ID', 'IMAGE', 'SIZE', 'LOGS', 'STATUS', 'NAMES'],
    ...usage.containers.map((c) => [c.id.slice(0, 12), c.image, formatBytes(c.size), formatBytes(c.logs), c.state, c.name]),
  ])}`;
  if (usage.volumes)
    text += `\nLocal Volumes space usage:\n\n${formatTable([
      ['VOLUME NAME', 'LINKS', 'SIZE'],
      ...usage.volumes.map((v) => [v.name, String(v.containers), formatBytes(v.size)]),
    ])}`;
  return text;
}

export function registerPruneCommands(program: Command): void {
  const container = program.command('container').description('manage containers (Docker’s `container` verbs)');
  container
    .command('prune')
    .description('remove stopped containers (exited or created, as Docker does); never running ones')
    .option('-f, --force', 'do not ask for confirmation')
    .action(pruneAction('containers.prune'));

  const system = program.command('system').description('disk use on a machine, and removing what nothing uses');
  system
    .command('df')
    .description('disk used by images, containers and their logs, and how much of it prune would free')
    .option('-v, --verbose', 'show every image and container')
    .option('--json', 'print JSON')
    .action((options: { verbose?: boolean; json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const usage = await api.call('system.df', { machine });
        if (options.json) printJson(usage);
        else process.stdout.write(formatDiskUsage(usage, options.verbose === true));
      }),
    );
  system
    .command('prune')
    .description('remove stopped containers, then dangling images (with -a every image no container uses)')
    .option('-a, --all', 'remove every image no container uses, not only dangling ones')
    .option('--volumes', 'remove anonymous volumes no container uses too')
    .option('-f, --force', 'do not ask for confirmation')
    .action(pruneAction('system.prune'));
}
