// `onggi`: the scriptable face of the same host core the window uses.
import { Command, CommanderError, Option } from 'commander';
import { OnggiError, errorMessage } from '../../shared/errors.js';
import { ONGGI_VERSION } from '../core/version.js';
import { registerContainerCommands } from './commands/containers.js';
import { registerContainerVerbCommands } from './commands/container-verbs.js';
import { registerMachineCommands } from './commands/machines.js';
import { registerImageCommands } from './commands/images.js';
import { registerNetworkCommands } from './commands/networks.js';
import { registerPruneCommands } from './commands/prune.js';
import { registerSystemCommands } from './commands/system.js';
import { registerDockerCommands } from './commands/docker.js';
import { registerVolumeCommands } from './commands/volumes.js';

function buildProgram(): Command {
  const program = new Command('onggi')
    .description('Linux containers, and what the kernel does for them')
    .version(ONGGI_VERSION)
    .addOption(
      new Option(
        '--machine <name>',
        'the machine to act on (default: ONGGI_MACHINE, else the one used last, else this computer or the only machine)',
      ),
    )
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  registerSystemCommands(program);
  registerContainerCommands(program);
  registerMachineCommands(program);
  registerImageCommands(program);
  registerContainerVerbCommands(program);
  registerNetworkCommands(program);
  registerPruneCommands(program);
  registerVolumeCommands(program);
  registerDockerCommands(program);
  // Subcommands report usage errors the same way as the program, and take --machine after the
  // verb too (`onggi ps --machine vm`), as users type it.
  // Nested verbs (`image import`, `network create`) too; not `machine …`, whose verbs name the machine.
  const addMachineOption = (command: Command): void => {
    command.exitOverride().showHelpAfterError();
    if (command.name() === 'machine') return;
    if (!command.options.some((option) => option.long === '--machine'))
      command.addOption(new Option('--machine <name>', 'the machine to act on'));
    for (const sub of command.commands) addMachineOption(sub);
  };
  for (const command of program.commands) addMachineOption(command);
  return program;
}

async function main(): Promise<number> {
  try {
    await buildProgram().parseAsync(process.argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed help or the usage error.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return 2;
    }
    const field = error instanceof OnggiError && error.field && !errorMessage(error).includes(error.field) ? ` (${error.field})` : '';
    process.stderr.write(`onggi: ${errorMessage(error)}${field}\n`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
