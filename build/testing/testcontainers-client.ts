// testcontainers for Node (npm), run as a user's test suite runs it: a Node process of its own
// with DOCKER_HOST pointing at an Onggi Docker API forward. A child process, so that it can sit
// where the published ports answer (e.g. behind nsenter in a network lab's machine netns, whose
// 127.0.0.1 is not this process's) and so that testcontainers' process-wide caches (the runtime
// client it resolves once from the environment) never outlive one run.
//
// The client starts a GenericContainer with one exposed port and a wait-for-log strategy, then
// connects to the host and mapped port testcontainers reports and reads what the container says
// there, stops (and so removes) the container, and prints one JSON line: what a test asserts on.
import { spawn } from 'node:child_process';
import { REPO_ROOT } from './isolated-agent.js';

export interface TestcontainersRun {
  code: number | null;
  /** The client's report (undefined when it failed: see err). */
  report?: { id: string; host: string; mappedPort: number; answer: string; attempts: number; waitedMs: number };
  err: string;
}

// CommonJS through `node -e`, resolved from the repository (cwd): the testcontainers users install.
const CLIENT = `
const { GenericContainer, Wait } = require('testcontainers');
const net = require('node:net');
const { image, port, message, command } = JSON.parse(process.argv[1]);

/** One TCP conversation: what the server sends before it closes (an HTTP GET, for httpd). */
function ask(host, mappedPort) {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect({ host, port: mappedPort }, () => socket.end('GET / HTTP/1.0\\r\\n\\r\\n'));
    socket.setTimeout(2000, () => socket.destroy());
    socket.setEncoding('utf8').on('data', (chunk) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
  });
}

(async () => {
  const container = await new GenericContainer(image)
    .withExposedPorts(port)
    .withCommand(command)
    .withWaitStrategy(Wait.forLogMessage(message))
    .withStartupTimeout(30000)
    .start();
  const host = container.getHost();
  const mappedPort = container.getMappedPort(port);
  // Asked again until it answers, for at most 10 s, so a failure says how long it stayed silent;
  // the count is reported (the SSH-forward test asserts one: the forward listens once start returns).
  let answer = '';
  let attempts = 0;
  const started = Date.now();
  const deadline = started + 10000;
  while (!answer && Date.now() < deadline) {
    attempts += 1;
    answer = await ask(host, mappedPort);
    if (!answer) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const waitedMs = Date.now() - started;
  const id = container.getId();
  await container.stop({ timeout: 2000 }); // and removes it (with its volumes), testcontainers' default
  process.stdout.write(JSON.stringify({ id, host, mappedPort, answer, attempts, waitedMs }) + '\\n');
})().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + '\\n');
  process.exit(1);
});
`;

/**
 * Runs the client with `wrapper` before node (e.g. ['nsenter', '--net=/run/netns/NAME']) and the
 * given DOCKER_HOST. Ryuk, testcontainers' reaper container, is off: it needs the Docker socket
 * bind-mounted into a container (a path on the machine the desktop's forward does not have) and
 * an image from Docker Hub, which tests cannot reach; each run stops and removes its container.
 */
export function runTestcontainers(
  wrapper: string[],
  dockerHost: string,
  home: string,
  spec: { image: string; port: number; message: string; command: string[] },
  extraEnv: Record<string, string> = {},
): Promise<TestcontainersRun> {
  const argv = [...wrapper, process.execPath, '-e', CLIENT, JSON.stringify(spec)];
  const [command = 'false', ...args] = argv;
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: home, // no ~/.testcontainers.properties or docker config of the machine's user
      DOCKER_HOST: dockerHost,
      TESTCONTAINERS_RYUK_DISABLED: 'true',
      ...extraEnv,
    },
  });
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.once('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      let report: TestcontainersRun['report'];
      try {
        report = code === 0 ? (JSON.parse(line) as TestcontainersRun['report']) : undefined;
      } catch {
        report = undefined;
      }
      resolve({ code, ...(report ? { report } : {}), err });
    });
  });
}
