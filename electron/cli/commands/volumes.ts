// `onggi volume create|ls|inspect|rm|prune`: Docker's volume verbs over the host API.
import type { Command } from 'commander';
import type { VolumeSummary } from '../../../shared/volumes.js';
import { formatBytes, formatTable } from '../format.js';
import { confirm, describePlan, formatPruneResult } from './prune.js';
import { collect, printJson, withSession } from '../session.js';

/** `KEY=VALUE` labels (`--label`, repeatable). */
function labels(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** Docker's columns, then who uses each; SIZE only when sizes were asked for (measuring walks every file). */
export function formatVolumeTable(list: readonly VolumeSummary[], withSize: boolean): string {
  return formatTable([
    ['DRIVER', 'VOLUME NAME', ...(withSize ? ['SIZE'] : []), 'CONTAINERS'],
    ...list.map((v) => ['local', v.name, ...(withSize ? [formatBytes(v.size ?? 0)] : []), v.containers.join(', ')]),
  ]);
}

export function registerVolumeCommands(program: Command): void {
  const volume = program.command('volume').description('manage volumes (data kept apart from any container)');

  volume
    .command('create')
    .description('create a named volume (a random name when none is given); an existing name is answered as is')
    .argument('[name]')
    .option('-l, --label <key=value>', 'a label (repeatable)', collect)
    .action((name: string | undefined, options: { label?: string[] }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const created = await api.call('volumes.create', {
          machine,
          ...(name ? { name } : {}),
          ...(options.label?.length ? { labels: labels(options.label) } : {}),
        });
        process.stdout.write(`${created.name}\n`);
      }),
    );

  volume
    .command('ls')
    .description('list volumes, with the containers that use each')
    .option('-q, --quiet', 'only names')
    .option('-s, --size', 'measure each volume (walks every file)')
    .option('--json', 'print JSON')
    .action((options: { quiet?: boolean; size?: boolean; json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const size = options.size === true;
        const list = await api.call('volumes.list', { machine, size });
        if (options.json) printJson(list);
        else if (options.quiet) process.stdout.write(list.map((v) => `${v.name}\n`).join(''));
        else process.stdout.write(formatVolumeTable(list, size));
      }),
    );

  volume
    .command('inspect')
    .description("a volume's record: where its data is, who uses it, its size")
    .argument('<volumes...>')
    .action((names: string[], _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const found = [];
        for (const name of names) found.push(await api.call('volumes.inspect', { machine, volume: name }));
        printJson(found);
      }),
    );

  volume
    .command('rm')
    .description('remove volumes (refused while a container uses one, naming it)')
    .argument('<volumes...>')
    .action((names: string[], _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        for (const name of names) {
          await api.call('volumes.remove', { machine, volume: name });
          process.stdout.write(`${name}\n`);
        }
      }),
    );

  volume
    .command('prune')
    .description('remove anonymous volumes no container uses; with -a every volume no container uses')
    .option('-a, --all', 'named volumes too')
    .option('-f, --force', 'do not ask for confirmation')
    .action((options: { all?: boolean; force?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const all = options.all === true;
        if (!options.force) {
          const plan = await api.call('volumes.prune', { machine, all, dryRun: true });
          process.stderr.write(describePlan({ ...plan, containers: [], images: [] }));
          if (plan.volumes.length === 0) return;
          if (!(await confirm('Are you sure you want to continue? [y/N] '))) return;
        }
        const result = await api.call('volumes.prune', { machine, all });
        process.stdout.write(formatPruneResult({ ...result, containers: [], images: [] }));
      }),
    );
}
