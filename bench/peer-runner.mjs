// Runs crun (or any argv) on request, timed, from inside a private mount namespace where
// /sys/fs/cgroup/unified is unmounted: crun refuses this machine's hybrid cgroup layout otherwise.
// Started as `unshare --mount --propagation private node bench/peer-runner.mjs`; reads one JSON
// argv per line on stdin, answers one line of elapsed milliseconds (or `error …`) per request.
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

const unmount = spawnSync('umount', ['/sys/fs/cgroup/unified'], { encoding: 'utf8' });
if (unmount.status !== 0 && !/not mounted|no mount point/.test(unmount.stderr)) {
  process.stdout.write(`error umount: ${unmount.stderr.trim()}\n`);
}
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const argv = JSON.parse(line);
  const started = performance.now();
  const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = performance.now() - started;
  process.stdout.write(run.status === 0 ? `${elapsed}\n` : `error ${JSON.stringify(run.stderr.trim().slice(0, 500))}\n`);
}
