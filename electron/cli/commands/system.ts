import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { errorMessage } from '../../../shared/errors.js';
import { startServe } from '../../serve/serve.js';
import { ASSETS, createCliCore } from '../context.js';
import { asHostApi, type HostCore } from '../../core/host-core.js';
import type { DockerForward } from '../../core/docker/docker-forward.js';
import { formatInfo } from '../format.js';
import { printJson, untilStopSignal, withSession } from '../session.js';

export function registerSystemCommands(program: Command): void {
  program
    .command('info')
    .description("show the machine's kernel, distro, architecture and cgroup layout, as its agent reads them")
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }, command: Command) =>
      withSession(command, async ({ api, machine }) => {
        const info = await api.call('machines.info', { machine });
        if (options.json) printJson(info);
        else process.stdout.write(`${formatInfo(machine, info)}\n`);
      }),
    );

  program
    .command('serve')
    .description('serve the window to a browser on 127.0.0.1 (for headless Linux boxes)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', parsePort, 0)
    .action(async (options: { port: number }) => {
      const core = createCliCore({ forwardPublishedPorts: true, watchNetwork: true, promptsInWindow: true });
      const serve = await startServe({
        core,
        rendererDir: ASSETS.rendererDir,
        port: options.port,
        onError: (error) => process.stderr.write(`onggi serve: ${errorMessage(error)}\n`),
      });
      // Before anything slow (a docker context is written per machine): a SIGTERM from here on
      // stops the server cleanly, never kills it half set up.
      const stopped = untilStopSignal();
      process.stdout.write(`Onggi is serving on ${serve.url}\n`);
      // Each machine's Docker API on this computer while serving (dialed per docker connection).
      const forwards = await forwardEveryMachine(core);
      await stopped;
      await Promise.all(forwards.map((forward) => forward.close()));
      await serve.close();
      await core.close();
    });
}

async function forwardEveryMachine(core: HostCore): Promise<DockerForward[]> {
  const machines = await asHostApi(core).call('machines.list', {});
  const forwards: DockerForward[] = [];
  for (const { name } of machines) {
    const report = (error: unknown) => process.stderr.write(`onggi serve: docker for ${name}: ${errorMessage(error)}\n`);
    const forward = await core.forwardDocker(name, report).catch((error: unknown) => void report(error));
    if (forward) forwards.push(forward);
  }
  return forwards;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be a whole number from 0 to 65535');
  return port;
}
