// `onggi docker-forward` for tests: started with the argv given (the CLI, perhaps behind nsenter),
// ready when it prints its DOCKER_HOST line (it listens before it prints); stop() ends it by pid.
import { spawn } from 'node:child_process';
import { terminate } from './isolated-agent.js';

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
