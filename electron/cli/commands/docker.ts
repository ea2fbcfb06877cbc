// `onggi docker-env` prints the line that points docker clients at a machine's Docker API on this
// desktop; `onggi docker-forward` offers it there until interrupted (the app and `onggi serve`
// forward every machine while they run).
import type { Command } from 'commander';
import { errorMessage } from '../../../shared/errors.js';
import { dockerContextName } from '../../core/docker/docker-context.js';
import { untilStopSignal, withSession } from '../session.js';

export function registerDockerCommands(program: Command): void {
  program
    .command('docker-env')
    .description("print the shell line that points docker clients (DOCKER_HOST) at a machine's Docker API on this computer")
    .action((_options: unknown, command: Command) =>
      withSession(command, async ({ core, machine }) => {
        const endpoint = core.dockerEndpoint(machine);
        process.stdout.write(`${endpoint.envLine}\n`);
        process.stderr.write(`# served while the Onggi app, \`onggi serve\` or \`onggi docker-forward --machine ${machine}\` runs\n`);
        process.stderr.write(
          `# (these also make the docker context ${dockerContextName(machine)}: docker context use ${dockerContextName(machine)})\n`,
        );
      }),
    );

  program
    .command('docker-forward')
    .description("offer a machine's Docker API on this computer (a socket in the data folder; a named pipe on Windows) until interrupted")
    .action((_options: unknown, command: Command) =>
      withSession(
        command,
        async ({ core, machine }) => {
          // Before the forward (it writes a docker context, a few hundred ms): ^C meanwhile still closes it.
          const stopped = untilStopSignal();
          const forward = await core.forwardDocker(machine, (error) =>
            process.stderr.write(`onggi docker-forward: ${machine}: ${errorMessage(error)}\n`),
          );
          process.stdout.write(`${forward.endpoint.envLine}\n`);
          await stopped;
          await forward.close();
        },
        // A remote machine's published ports on this computer's 127.0.0.1 too, as `onggi serve` does:
        // docker clients (testcontainers) connect to `localhost:PORT` after `docker run -p`.
        { forwardPublishedPorts: true },
      ),
    );
}
