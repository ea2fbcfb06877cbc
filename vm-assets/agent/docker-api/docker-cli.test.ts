// The Docker Engine API against real docker clients: Debian's docker CLI 20.10 (API 1.41) and the
// newer client on this machine (which must negotiate down after /_ping), through the desktop's
// forward (`onggi docker-forward`, a socket in the data folder) to a real local agent of the
// test's own; images from the loopback registry the other suites use.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';
import type * as NodePty from '@lydell/node-pty';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isolatedAgent, type IsolatedAgent } from '../../../build/testing/isolated-agent.js';
import { startForward, type RunningForward } from '../../../build/testing/docker-forward.js';
import { useRegistryImages } from '../../../build/testing/test-images.js';

const DEBIAN_DOCKER = '/usr/bin/docker';
const NEWER_DOCKER = '/usr/local/bin/docker';

let sandbox: IsolatedAgent;
let configDir: string;
let forward: RunningForward | undefined;
let dockerHost = '';
const fixture = useRegistryImages();

function onggi(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: sandbox.env, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

beforeAll(async () => {
  sandbox = await isolatedAgent();
  configDir = await mkdtemp(join(tmpdir(), 'onggi-docker-config-'));
  expect(onggi('info', '--machine', 'local').code).toBe(0); // the daemon is up
  forward = await startForward([process.execPath, CLI, 'docker-forward', '--machine', 'local'], sandbox.env);
  dockerHost = forward.dockerHost;
});

afterAll(async () => {
  await forward?.stop();
  await sandbox?.cleanup();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

function docker(bin: string, ...args: string[]) {
  return dockerWithInput(bin, undefined, ...args);
}

function dockerWithInput(bin: string, input: string | undefined, ...args: string[]) {
  const run = spawnSync(bin, args, {
    input,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH, HOME: configDir, DOCKER_CONFIG: configDir, DOCKER_HOST: dockerHost },
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('the Docker API socket', () => {
  it('is served beside the agent socket and forwarded into the data folder, both owner only; docker-env prints DOCKER_HOST', async () => {
    for (const path of [join(sandbox.runDir, 'docker.sock'), dockerHost.replace(/^unix:\/\//, '')]) {
      const info = await stat(path);
      expect(info.isSocket()).toBe(true);
      expect(info.mode & 0o777).toBe(0o600);
    }
    expect(dockerHost).toBe(`unix://${join(sandbox.home, 'docker', 'local.sock')}`);
    const env = onggi('docker-env', '--machine', 'local');
    expect(env.out).toBe(`export DOCKER_HOST='${dockerHost}'\n`);
  });

  it.skipIf(!existsSync(DEBIAN_DOCKER))(
    'docker-forward made the docker context onggi-local: docker --context reaches the agent without DOCKER_HOST',
    () => {
      const env = { PATH: process.env.PATH, HOME: configDir, DOCKER_CONFIG: sandbox.env.DOCKER_CONFIG };
      const inspect = spawnSync(DEBIAN_DOCKER, ['context', 'inspect', '--format', '{{.Endpoints.docker.Host}}', 'onggi-local'], {
        env,
        encoding: 'utf8',
      });
      expect(inspect.stdout.trim()).toBe(dockerHost);
      const version = spawnSync(DEBIAN_DOCKER, ['--context', 'onggi-local', 'version', '--format', '{{.Server.APIVersion}}'], {
        env,
        encoding: 'utf8',
      });
      expect(version.stderr).toBe('');
      expect(version.stdout.trim()).toBe('1.41');
    },
  );
});

for (const [label, bin] of [
  ['docker 20.10 (API 1.41)', DEBIAN_DOCKER],
  ['the newer docker client (negotiates down)', NEWER_DOCKER],
] as const) {
  describe.skipIf(!existsSync(bin))(`${label}: ${bin}`, () => {
    const d = (...args: string[]) => docker(bin, ...args);
    const tag = bin === DEBIAN_DOCKER ? 'd20' : 'd28';

    it('version and info', () => {
      const version = d('version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}');
      expect(version.err).toBe('');
      expect(version.out.trim()).toBe('1.41 linux');
      const info = d('info', '--format', '{{.OSType}} {{.Driver}} {{.NCPU}}');
      expect(info.code).toBe(0);
      expect(info.out.trim()).toMatch(/^linux overlay2 \d+$/);
    });

    it('pull, images, tag, inspect an image', () => {
      const ref = fixture.images.refs.busybox;
      const pull = d('pull', ref);
      expect(pull.err).toBe('');
      expect(pull.code).toBe(0);
      expect(pull.out).toContain('Downloaded newer image');
      const images = d('images', '--format', '{{.Repository}}:{{.Tag}}');
      expect(images.out.split('\n')).toContain(ref);
      expect(d('tag', ref, `retagged-${tag}:v1`).code).toBe(0);
      expect(d('image', 'inspect', '--format', '{{.Os}}', `retagged-${tag}:v1`).out.trim()).toBe('linux');
      expect(d('rmi', `retagged-${tag}:v1`).out).toContain(`Untagged: retagged-${tag}:v1`);
      const missing = d('image', 'inspect', 'nothing-here:v9');
      expect(missing.code).not.toBe(0);
      expect(missing.err).toContain('No such image');
    });

    it('run --rm prints output and passes the exit code', () => {
      const run = d('run', '--rm', '-e', 'WORD=annyeong', fixture.images.refs.busybox, 'sh', '-c', 'echo $WORD; echo oops >&2; exit 3');
      expect(run.out).toBe('annyeong\n');
      expect(run.err).toBe('oops\n');
      expect(run.code).toBe(3);
      expect(d('ps', '-a', '-q').out.trim()).toBe('');
      // -i: the client's input through the hijacked attach, its end closing the container's stdin.
      const cat = dockerWithInput(bin, 'through stdin\n', 'run', '--rm', '-i', fixture.images.refs.busybox, 'sh', '-c', 'cat; echo eof');
      expect(cat.out).toBe('through stdin\neof\n');
      expect(cat.code).toBe(0);
    });

    it('run -d with a name, labels, a volume; ps filters and formats; logs, exec, inspect, stop, rm -f', async () => {
      const volume = `data-${tag}`;
      expect(d('volume', 'create', volume).code).toBe(0);
      expect(d('volume', 'ls', '--format', '{{.Name}}').out.split('\n')).toContain(volume);
      const run = d(
        'run',
        '-d',
        '--name',
        `web-${tag}`,
        '--label',
        'team=pot',
        '-e',
        'GREETING=hi',
        '-v',
        `${volume}:/data`,
        fixture.images.refs.busybox,
        'sh',
        '-c',
        'echo $GREETING; echo saved > /data/f; exec sleep 1000',
      );
      expect(run.err).toBe('');
      const id = run.out.trim();
      expect(id).toMatch(/^[a-f0-9]{64}$/);
      const ps = d('ps', '--filter', 'label=team=pot', '--format', '{{.Names}} {{.Status}}');
      expect(ps.out).toMatch(new RegExp(`^web-${tag} Up`));
      expect(d('ps', '--filter', 'label=team=other', '-q').out.trim()).toBe('');
      let logs = '';
      for (let i = 0; i < 100 && !logs; i += 1) {
        logs = d('logs', `web-${tag}`).out;
        if (!logs) await new Promise((r) => setTimeout(r, 50));
      }
      expect(logs).toBe('hi\n');
      const exec = d('exec', `web-${tag}`, 'sh', '-c', 'cat /data/f; echo err >&2; exit 4');
      expect(exec.out).toBe('saved\n');
      expect(exec.err).toBe('err\n');
      expect(exec.code).toBe(4);
      const execIn = dockerWithInput(bin, 'typed\n', 'exec', '-i', `web-${tag}`, 'sh', '-c', 'cat; echo done');
      expect(execIn.out).toBe('typed\ndone\n');
      const inspect = JSON.parse(d('inspect', `web-${tag}`).out) as Array<{
        Id: string;
        Name: string;
        State: { Running: boolean };
        Config: { Labels: Record<string, string> };
      }>;
      expect(inspect[0]).toMatchObject({ Id: id, Name: `/web-${tag}`, State: { Running: true }, Config: { Labels: { team: 'pot' } } });
      expect(d('stop', '-t', '1', `web-${tag}`).code).toBe(0);
      expect(d('ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}').out.trim()).toBe(`web-${tag}`);
      expect(d('rm', '-f', `web-${tag}`).code).toBe(0);
      expect(d('ps', '-a', '-q').out.trim()).toBe('');
      expect(d('volume', 'rm', volume).code).toBe(0);
    });

    it('--cap-add, --privileged, --device, --sysctl and --security-opt reach the container', async () => {
      const img = fixture.images.refs.busybox;
      const sh = (options: string[], script: string) => d('run', '--rm', ...options, img, 'sh', '-c', script);
      // Bridge: this machine's kernel has no dummy link driver (see electron/cli/privileges.test.ts).
      const link = 'ip link add d0 type bridge && ip link show d0';
      const without = sh([], link);
      expect(without.code).not.toBe(0);
      expect(without.err).toMatch(/Operation not permitted|permission denied/i);
      const withCap = sh(['--cap-add', 'NET_ADMIN'], link);
      expect(withCap.err).toBe('');
      expect(withCap.out).toContain('d0:');
      expect(sh(['--cap-drop', 'ALL'], 'chown 1 /tmp').code).not.toBe(0);
      expect(sh(['--privileged'], 'grep Seccomp: /proc/self/status').out).toMatch(/^Seccomp:\s+0\n/);
      expect(sh([], 'grep Seccomp: /proc/self/status').out).toMatch(/^Seccomp:\s+2\n/);
      expect(sh(['--device', '/dev/null:/dev/nothing:rw'], 'test -c /dev/nothing && echo dev').out).toBe('dev\n');
      expect(sh(['--sysctl', 'net.ipv4.ip_forward=1'], 'cat /proc/sys/net/ipv4/ip_forward').out).toBe('1\n');
      // seccomp=FILE: the docker CLI reads the file and sends its JSON text.
      const profile = join(configDir, `no-mkdir-${tag}.json`);
      await writeFile(
        profile,
        JSON.stringify({
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
        }),
      );
      const filtered = sh(['--security-opt', `seccomp=${profile}`], 'mkdir /tmp/d; echo "mkdir=$?"; ls / >/dev/null; echo "ls=$?"');
      expect(filtered.out).toBe('mkdir=1\nls=0\n');
      const free = sh(
        ['--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges=false'],
        'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status',
      );
      expect(free.out).toMatch(/^NoNewPrivs:\s+0\nSeccomp:\s+0\n/);
      expect(sh(['--security-opt', 'no-new-privileges'], 'grep NoNewPrivs: /proc/self/status').out).toMatch(/^NoNewPrivs:\s+1\n/);
      // inspect reports them back in HostConfig (compose and IDEs read these).
      const held = `privileges-${tag}`;
      const created = d(
        'create',
        '--name',
        held,
        '--cap-add',
        'NET_ADMIN',
        '--cap-drop',
        'CHOWN',
        '--device',
        '/dev/null:/dev/nothing:rw',
        '--sysctl',
        'net.ipv4.ip_forward=1',
        '--security-opt',
        'no-new-privileges=false',
        img,
        'true',
      );
      expect(created.err).toBe('');
      const hostConfig = JSON.parse(d('inspect', '--format', '{{json .HostConfig}}', held).out) as Record<string, unknown>;
      expect(hostConfig).toMatchObject({
        CapAdd: ['CAP_NET_ADMIN'],
        CapDrop: ['CAP_CHOWN'],
        Privileged: false,
        Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/nothing', CgroupPermissions: 'rw' }],
        Sysctls: { 'net.ipv4.ip_forward': '1' },
        SecurityOpt: ['no-new-privileges=false'],
      });
      expect(d('rm', held).code).toBe(0);
      // Refused by name, through the same schemas `onggi run` uses.
      expect(d('run', '--rm', '--security-opt', 'apparmor=unconfined', img, 'true').err).toContain(
        'HostConfig.SecurityOpt "apparmor=unconfined" is not supported by Onggi',
      );
      // (the newer client prefixes CAP_; a machine-wide sysctl is refused by the client itself already)
      expect(d('run', '--rm', '--cap-add', 'NOT_A_CAP', img, 'true').err).toMatch(
        /params\.capAdd\[0\]: unknown capability "(CAP_)?NOT_A_CAP"/,
      );
      expect(d('ps', '-a', '-q').out.trim()).toBe('');
    });

    it('top, diff, update --memory, stats --no-stream, cp out and in, export (then import) of a running container', () => {
      const name = `verbs-${tag}`;
      expect(d('pull', fixture.images.refs.busybox).code).toBe(0);
      const run = d('run', '-d', '--name', name, fixture.images.refs.busybox, 'sleep', '1000');
      expect(run.err).toBe('');
      const top = d('top', name);
      expect(top.code).toBe(0);
      expect(top.out.split('\n')[0]).toMatch(/^UID\s+PID\s+PPID\s+CMD/);
      expect(top.out).toMatch(/\nroot\s+\d+\s+\d+\s+sleep 1000/);
      expect(d('exec', name, 'sh', '-c', 'echo x > /made; rm /bin/true').code).toBe(0);
      const diff = d('diff', name).out.split('\n');
      expect(diff).toContain('A /made');
      expect(diff).toContain('D /bin/true');
      expect(diff).toContain('C /bin');
      const update = d('update', '--memory', '64m', name);
      expect(update.err).toBe('');
      expect(update.code).toBe(0);
      expect(d('inspect', '--format', '{{.HostConfig.Memory}}', name).out.trim()).toBe(String(64 * 1024 * 1024));
      // The limit column is read back from the container's cgroup by the agent: the update reached the kernel.
      const stats = d('stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}', name);
      expect(stats.err).toBe('');
      expect(stats.out).toMatch(new RegExp(`^${name} \\d+\\.\\d+% [\\d.]+[KMG]?i?B / 64MiB 1\\n$`));
      expect(d('stats', '--no-stream', name).out).toMatch(new RegExp(`^CONTAINER ID\\s+NAME\\s+CPU %[^\\n]*\\n[0-9a-f]{12}\\s+${name}\\s`));
      const tar = join(configDir, `export-${tag}.tar`);
      expect(d('export', '-o', tar, name).code).toBe(0);
      const listed = spawnSync('tar', ['-tf', tar], { encoding: 'utf8' }).stdout.split('\n');
      expect(listed).toContain('./made');
      expect(listed).not.toContain('./bin/true');
      // cp out: a file and a directory (the client unpacks the tar under the name it was given).
      const copied = join(configDir, `copied-${tag}`);
      const cpFile = d('cp', `${name}:/made`, copied);
      expect(cpFile.err).toBe('');
      expect(readFileSync(copied, 'utf8')).toBe('x\n');
      const copiedDir = join(configDir, `etc-${tag}`);
      expect(d('cp', `${name}:/etc`, copiedDir).code).toBe(0);
      expect(readFileSync(join(copiedDir, 'passwd'), 'utf8')).toMatch(/^root:/);
      // a 404 (docker 20.10 words it itself)
      expect(d('cp', `${name}:/no/such/file`, copied).err).toMatch(
        /Could not find the file \/no\/such\/file|No such container:path: .*:\/no\/such\/file/,
      );
      // cp in: into a directory, and as a new name (the client renames the tar's top entry).
      const cpIn = d('cp', copied, `${name}:/tmp/`);
      expect(cpIn.err).toBe('');
      expect(d('exec', name, 'cat', `/tmp/copied-${tag}`).out).toBe('x\n');
      expect(d('cp', copiedDir, `${name}:/tmp/etc2`).code).toBe(0);
      expect(d('exec', name, 'head', '-c', '5', '/tmp/etc2/passwd').out).toBe('root:');
      // A hostile tar through `docker cp -`: a `..` name and a file under a link to /. Neither lands on the machine.
      const evilDir = join(configDir, `evil-${tag}`);
      mkdirSync(evilDir);
      writeFileSync(join(evilDir, 'f'), 'owned\n');
      symlinkSync('/', join(evilDir, 'l'));
      const escapes = [`/tmp/onggi-escape-${tag}`, `/tmp/onggi-escape-link-${tag}`];
      const evilTar = join(configDir, `evil-${tag}.tar`);
      const made = spawnSync('tar', ['-C', evilDir, '-cf', evilTar, 'l', `--transform=s,^f$,../../../..${escapes[0]},`, 'f'], {
        encoding: 'utf8',
      });
      expect(made.status, made.stderr).toBe(0);
      spawnSync('tar', ['-C', evilDir, '-rf', evilTar, `--transform=s,^f$,l${escapes[1]},`, 'f']);
      const evil = spawnSync(bin, ['cp', '-', `${name}:/tmp/`], {
        input: readFileSync(evilTar),
        env: { PATH: process.env.PATH, HOME: configDir, DOCKER_CONFIG: configDir, DOCKER_HOST: dockerHost },
      });
      expect(evil.status === 0 || evil.stderr.length > 0).toBe(true);
      for (const escape of escapes) expect(existsSync(escape)).toBe(false);
      expect(d('cp', '-a', copied, `${name}:/tmp/`).err).toContain('copyUIDGID (docker cp -a) is not supported by Onggi');
      // import: the exported filesystem back as a one-layer image that runs.
      const imported = d('import', tar, `imported-${tag}:v1`);
      expect(imported.err).toBe('');
      expect(imported.out).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      // (no --rm: the rmi below must not race the removal)
      expect(d('run', '--name', `from-import-${tag}`, `imported-${tag}:v1`, 'cat', '/made').out).toBe('x\n');
      expect(d('rm', `from-import-${tag}`).code).toBe(0);
      const rmiImported = d('rmi', `imported-${tag}:v1`);
      expect(rmiImported.code, rmiImported.err).toBe(0);
      expect(d('update', '--restart', 'always', name).err).toContain('update RestartPolicy is not supported by Onggi');
      // A stopped container's stats are all zero, as dockerd's.
      expect(d('kill', name).code).toBe(0);
      expect(d('stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.PIDs}}', name).out).toBe(`${name} 0.00% 0\n`);
      expect(d('rm', '-f', name).code).toBe(0);
    });

    it('attach and exec -it on a real terminal: typed input reaches the container, its output comes back, resize, detach keys, exit code', async () => {
      const name = `tty-${tag}`;
      expect(d('pull', fixture.images.refs.busybox).code).toBe(0);
      expect(d('run', '-d', '-it', '--name', name, fixture.images.refs.busybox, 'sh').code).toBe(0);
      // attach: the shell computes what was typed (the echo of the line alone never shows 42).
      const attach = onTerminal(bin, ['attach', name], 80, 24);
      attach.write('echo typed-$((6*7))\r');
      await attach.waitFor(/typed-42/);
      attach.resize(100, 30);
      attach.write('stty size\r');
      await attach.waitFor(/30 100/);
      // Ctrl-P Ctrl-Q (Docker's default detach keys): the client leaves, the container runs on
      // (the docker CLI reports the detach as it does against dockerd: status 1, "read escape sequence").
      attach.write('\x10\x11');
      expect(await attach.exited).toBe(1);
      expect(attach.output()).toContain('read escape sequence');
      expect(d('inspect', '--format', '{{.State.Running}}', name).out.trim()).toBe('true');
      // exec -it: a terminal of its own, sized as the client's (docker sends its size right after the
      // start: asked once the shell has answered), whose exit code the client returns.
      const exec = onTerminal(bin, ['exec', '-it', name, 'sh'], 90, 20);
      exec.write('tty; echo exec-$((2+3))\r');
      await exec.waitFor(/exec-5/);
      expect(exec.output()).toMatch(/\/dev\/pts\/\d+/);
      exec.write('stty size\r');
      await exec.waitFor(/20 90/);
      exec.resize(70, 15);
      exec.write('stty size\r');
      await exec.waitFor(/15 70/);
      exec.write('exit 3\r');
      expect(await exec.exited).toBe(3);
      expect(d('rm', '-f', name).code).toBe(0);
    });

    it('save -o then load -i: an image removed comes back and runs', () => {
      const ref = fixture.images.refs.layered;
      expect(d('pull', ref).code).toBe(0);
      const tar = join(configDir, `saved-${tag}.tar`);
      const save = d('save', '-o', tar, ref);
      expect(save.err).toBe('');
      expect(spawnSync('tar', ['-tf', tar], { encoding: 'utf8' }).stdout.split('\n')).toContain('./manifest.json');
      expect(d('rmi', ref).code).toBe(0);
      expect(d('image', 'inspect', ref).code).not.toBe(0);
      const load = d('load', '-i', tar);
      expect(load.err).toBe('');
      expect(load.out).toBe(`Loaded image: ${ref}\n`);
      expect(d('run', '--rm', ref, 'true').code).toBe(0);
      expect(d('rmi', ref).code).toBe(0);
    });

    it('refuses what Onggi does not do, naming it', () => {
      const pid = d('run', '--rm', '--pid', 'host', fixture.images.refs.busybox, 'true');
      expect(pid.code).not.toBe(0);
      expect(pid.err).toContain('HostConfig.PidMode is not supported by Onggi');
      const runtime = d('run', '--rm', '--runtime', 'kata', fixture.images.refs.busybox, 'true');
      expect(runtime.err).toContain('HostConfig.Runtime is not supported by Onggi');
    });
  });
}

describe('dockerode (npm) through the forward', () => {
  it('pulls with progress, creates, starts, waits, reads demultiplexed logs, execs with a hijacked stream, removes', async () => {
    const docker = new Docker({ socketPath: dockerHost.replace(/^unix:\/\//, '') });
    expect(String(await docker.ping())).toBe('OK');
    const stream = await docker.pull(fixture.images.refs.busybox);
    const events = await new Promise<Array<{ status?: string }>>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null, output: Array<{ status?: string }>) =>
        error ? reject(error) : resolve(output),
      ),
    );
    expect(events.at(-1)?.status).toContain('Downloaded newer image');
    const container = await docker.createContainer({
      Image: fixture.images.refs.busybox,
      Cmd: ['sh', '-c', 'echo out; echo err >&2; exec sleep 1000'],
      name: 'dockerode-box',
      Labels: { via: 'dockerode' },
    });
    await container.start();
    const exec = await container.exec({ Cmd: ['sh', '-c', 'echo from-exec; exit 5'], AttachStdout: true, AttachStderr: true });
    const execStream = await exec.start({ hijack: true, stdin: false });
    const execOut = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const sink = new PassThrough().on('data', (chunk: Buffer) => chunks.push(chunk));
      docker.modem.demuxStream(execStream, sink, new PassThrough());
      execStream.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    expect(execOut).toBe('from-exec\n');
    expect((await exec.inspect()).ExitCode).toBe(5);
    const listed = await docker.listContainers({ filters: { label: ['via=dockerode'] } });
    expect(listed.map((c) => c.Names[0])).toEqual(['/dockerode-box']);
    let logs = '';
    for (let i = 0; i < 100 && !logs.includes('err'); i += 1) {
      const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      logs = demux(raw);
      if (!logs.includes('err')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(logs).toBe('1:out\n2:err\n');
    await container.kill();
    expect((await container.wait()).StatusCode).toBe(137);
    await container.remove({ force: true });
    await expect(container.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('/events', () => {
  it('streams container events matching its filters (type, event, label)', async () => {
    const docker = new Docker({ socketPath: dockerHost.replace(/^unix:\/\//, '') });
    const pulled = await docker.pull(fixture.images.refs.busybox);
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(pulled, (error: Error | null) => (error ? reject(error) : resolve(undefined))),
    );
    const events = await docker.getEvents({ filters: { type: ['container'], event: ['start', 'die'], label: ['watch=yes'] } });
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      let buffered = '';
      events.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const event = JSON.parse(buffered.slice(0, nl)) as { Action: string; Actor: { Attributes: Record<string, string> } };
          buffered = buffered.slice(nl + 1);
          seen.push(`${event.Action} ${event.Actor.Attributes.name ?? ''}`);
          if (event.Action === 'die') resolve();
        }
      });
    });
    const unwatched = await docker.createContainer({ Image: fixture.images.refs.busybox, Cmd: ['true'], name: 'unwatched' });
    await unwatched.start();
    await unwatched.wait();
    const watched = await docker.createContainer({
      Image: fixture.images.refs.busybox,
      Cmd: ['true'],
      name: 'watched',
      Labels: { watch: 'yes' },
    });
    await watched.start();
    await done;
    (events as unknown as { destroy(): void }).destroy();
    expect(seen).toEqual(['start watched', 'die watched']);
    await unwatched.remove();
    await watched.remove();
  });
});

/** stdcopy frames as `STREAM:payload` lines (stream 1 stdout, 2 stderr). */
function demux(raw: Buffer): string {
  let out = '';
  for (let at = 0; at + 8 <= raw.length;) {
    const size = raw.readUInt32BE(at + 4);
    out += `${raw[at]}:${raw.subarray(at + 8, at + 8 + size).toString()}`;
    at += 8 + size;
  }
  return out;
}

const nodePty = createRequire(import.meta.url)('@lydell/node-pty') as typeof NodePty;

/** A docker client on a real terminal (node-pty): what it wrote, typed keys, resize, its exit code. */
function onTerminal(bin: string, args: string[], cols: number, rows: number) {
  const term = nodePty.spawn(bin, args, {
    cols,
    rows,
    env: { PATH: process.env.PATH ?? '', HOME: configDir, DOCKER_CONFIG: configDir, DOCKER_HOST: dockerHost, TERM: 'xterm' },
  });
  let seen = '';
  const watchers = new Set<() => void>();
  term.onData((data) => {
    seen += data;
    for (const watcher of watchers) watcher();
  });
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    write: (text: string) => term.write(text),
    resize: (c: number, r: number) => term.resize(c, r),
    output: () => seen,
    exited,
    /** Resolves when the output so far matches; fails with the output after 10 s. */
    waitFor(pattern: RegExp): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(check);
          term.kill();
          reject(new Error(`no ${String(pattern)} on the terminal; it showed: ${JSON.stringify(seen)}`));
        }, 10_000);
        const check = () => {
          if (!pattern.test(seen)) return;
          clearTimeout(timer);
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      });
    },
  };
}
