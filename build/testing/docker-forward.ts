// `onggi docker-forward` for tests: started with the argv given (the CLI, perhaps behind nsenter),
// ready when it prints its DOCKER_HOST line (it listens before it prints); stop() ends it by pid.
import { spawn } from 'node:child_process';
import { terminate } from './isolated-agent.js';
import type { NetnsLab } from './netns-lab.js';

export interface RunningForward {
  dockerHost: string;
  stop(): Promise<void>;
}

export function startForward(argv: string[], env: NodeJS.ProcessEnv): Promise<RunningForward> {
  const [command = 'false', ...args] = argv;
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined) await terminate(child.pid);
  };
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /DOCKER_HOST='([^']+)'/.exec(out);
      if (line?.[1]) resolve({ dockerHost: line[1], stop });
    });
    child.once('exit', (code) => reject(new Error(`docker-forward exited ${code}`)));
  });
}

/** `onggi docker-forward` for a network lab's agent: the lab's copy of the CLI, in the lab's machine netns. */
export function startLabForward(lab: NetnsLab): Promise<RunningForward> {
  const cli = lab.agentEntry.replace(/vm-assets\/dist\/agent\/agent\.cjs$/, 'dist/electron/cli.cjs');
  return startForward(
    ['nsenter', `--net=/run/netns/${lab.machine}`, process.execPath, cli, 'docker-forward', '--machine', 'local'],
    lab.env,
  );
}
