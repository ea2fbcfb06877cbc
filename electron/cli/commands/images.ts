// `onggi image …`: pull, import, list, inspect, remove, on the chosen machine.
import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import type { PullProgress } from '../../../shared/images.js';
import { currentFacts } from '../../core/platform/platform.js';
import { formatBytes, formatTable } from '../format.js';
import { importSource } from '../import-source.js';
import { printJson, withSession } from '../session.js';
import { registerImagePrune } from './prune.js';

/** One line per layer and status change: readable in a log as well as on a terminal. */
function progressPrinter(): (event: PullProgress) => void {
  const last = new Map<string, string>();
  return (event) => {
    const key = event.layer ?? 'image';
    if (last.get(key) === event.status) return;
    last.set(key, event.status);
    const layer = event.layer ? event.layer.slice(7, 19) : event.ref;
    const size = event.total > 0 ? ` ${formatBytes(event.total)}` : '';
    process.stderr.write(`${layer}: ${event.status}${size}\n`);
  };
}

interface ImportFlags {
  name?: string;
  kind: 'auto' | 'docker-archive' | 'oci-archive' | 'rootfs';
}

/** The name given positionally or with --name (both only when they agree). */
function importName(positional: string | undefined, flag: string | undefined): { name?: string } {
  if (positional !== undefined && flag !== undefined && positional !== flag)
    throw new Error(`two names given: "${positional}" and --name "${flag}"; give one`);
  const name = positional ?? flag;
  return name === undefined ? {} : { name };
}

export function registerImageCommands(program: Command): void {
  const image = program.command('image').description('manage images on a machine');
  registerImagePrune(image);

  image
    .command('pull')
    .description('pull an image from a registry (Docker Hub by default)')
    .argument('<ref>', 'e.g. busybox, 127.0.0.1:5000/app:1.0, name@sha256:…')
    .option('--insecure', 'allow plain HTTP for this registry (e.g. 127.0.0.1:5000)')
    .option('--platform <os/arch>', 'pull another platform than the machine’s, e.g. linux/arm64')
    .option('--username <user>', 'registry user (the password is read from ONGGI_REGISTRY_PASSWORD)')
    .option('-q, --quiet', 'print only the image id')
    .action((ref: string, options: { insecure?: boolean; platform?: string; username?: string; quiet?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const progressId = randomUUID();
        const print = progressPrinter();
        const off = api.onEvent((event) => {
          if (
            !options.quiet &&
            event.type === 'machine.event' &&
            event.event.type === 'pull.progress' &&
            event.event.progressId === progressId
          )
            print(event.event);
        });
        try {
          const summary = await api.call('images.pull', {
            machine,
            ref,
            progressId,
            ...(options.insecure ? { insecure: true } : {}),
            ...(options.platform ? { platform: options.platform } : {}),
            ...(options.username ? { auth: { username: options.username, password: process.env.ONGGI_REGISTRY_PASSWORD ?? '' } } : {}),
          });
          process.stdout.write(options.quiet ? `${summary.id}\n` : `${summary.names.join(', ')} ${summary.id}\n`);
        } finally {
          off();
        }
      }),
    );

  image
    .command('import')
    .description('import a `docker save` tarball, an OCI image layout tarball, or a rootfs tarball')
    .argument('<file>', 'the tarball: a file on this computer (uploaded to a remote machine first), else a path on the machine')
    .argument('[ref]', 'the name, as `docker import FILE REF` takes it (the same as --name)')
    .option('--name <ref>', 'name for a rootfs tarball (required there), or an extra tag')
    .addOption(
      new Option('--kind <kind>', 'what the tarball is').choices(['auto', 'docker-archive', 'oci-archive', 'rootfs']).default('auto'),
    )
    .action((file: string, ref: string | undefined, flags: ImportFlags, cmd: Command) =>
      withSession(cmd, async ({ api, core, machine }) => {
        const options = { ...flags, ...importName(ref, flags.name) };
        // A file on this computer is uploaded to a remote machine first; otherwise the path is the machine's.
        const source = await importSource(file, { machine, facts: currentFacts(), cwd: process.cwd() });
        const here = source.where === 'desktop';
        const off = core.onEvent((event) => {
          if (event.type === 'machine.upload' && process.stderr.isTTY) {
            process.stderr.write(`\ruploading ${event.file}: ${(event.bytes / 1e6).toFixed(1)}/${(event.total / 1e6).toFixed(1)} MB `);
          }
        });
        const imported = here
          ? await core
              .importImageFile(machine, source.path, { kind: options.kind, ...(options.name ? { name: options.name } : {}) })
              .finally(off)
          : await api.call('images.import', {
              machine,
              path: source.path,
              kind: options.kind,
              ...(options.name ? { name: options.name } : {}),
            });
        off();
        if (here && process.stderr.isTTY) process.stderr.write('\n');
        for (const summary of imported) process.stdout.write(`${summary.names.join(', ') || '<none>'} ${summary.id}\n`);
      }),
    );

  image
    .command('tag')
    .description('give an image another name (a name another image had moves to this one)')
    .argument('<source>', 'image name, id or id prefix')
    .argument('<target>', 'the new name, e.g. app:1.0 or 127.0.0.1:5000/app:1.0')
    .action((source: string, target: string, _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        await api.call('images.tag', { machine, image: source, name: target });
      }),
    );

  image
    .command('ls')
    .description('list images')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const list = await api.call('images.list', { machine });
        if (options.json) return printJson(list);
        const rows = [
          ['REPOSITORY:TAG', 'IMAGE ID', 'LAYERS', 'SIZE'],
          ...list.flatMap((i) =>
            (i.names.length ? i.names : ['<none>']).map((name) => [name, i.id.slice(7, 19), String(i.layers), formatBytes(i.size)]),
          ),
        ];
        process.stdout.write(formatTable(rows));
      }),
    );

  image
    .command('inspect')
    .description("an image's config, layers and their directories on the machine")
    .argument('<image>')
    .action((selector: string, _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => printJson(await api.call('images.inspect', { machine, image: selector }))),
    );

  image
    .command('rm')
    .description('remove an image (refused while a container uses it)')
    .argument('<images...>')
    .option('-f, --force', 'remove even if other names point at it')
    .action((images: string[], options: { force?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        for (const selector of images) {
          const result = await api.call('images.remove', { machine, image: selector, ...(options.force ? { force: true } : {}) });
          for (const name of result.untagged) process.stdout.write(`Untagged: ${name}\n`);
          for (const digest of result.deleted) process.stdout.write(`Deleted: ${digest}\n`);
        }
      }),
    );
}
