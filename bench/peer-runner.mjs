// Runs crun (or any argv) on request, timed, from inside a private mount namespace where
// /sys/fs/cgroup/unified is unmounted: crun refuses this machine's hybrid cgroup layout otherwise.
// Started as `unshare --mount --propagation private node bench/peer-runner.mjs`; reads one request
// per line on stdin — a JSON argv, run alone, or `{"all": [argv, …]}`, all started at once —
// and answers one line of elapsed milliseconds (until every one has ended) or `error …` per request.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

const unmount = spawnSync('umount', ['/sys/fs/cgroup/unified'], { encoding: 'utf8' });
if (unmount.status !== 0 && !/not mounted|no mount point/.test(unmount.stderr)) {
  process.stdout.write(`error umount: ${unmount.stderr.trim()}\n`);
}

/**
 * One argv to its end: its stderr when it failed, else undefined. A success ends at 'exit', not
 * 'close': a container `crun run -d` leaves running inherits crun's stderr and holds the pipe open;
 * the runner lets go of it, so the container's writes go nowhere rather than keep the runner. A
 * failure left no container behind, so it waits for 'close', when its stderr has all arrived.
 */
function runOne(argv) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data) => (stderr += data));
    child.on('error', (error) => resolve(error.message));
    child.on('exit', (code) => {
      if (code !== 0) {
        child.on('close', () => resolve(stderr.trim() || `exit ${code}`));
        return;
      }
      child.stderr.destroy();
      resolve(undefined);
    });
  });
}

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line);
  const started = performance.now();
  let failed;
  if (Array.isArray(request)) {
    const run = spawnSync(request[0], request.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    failed = run.status === 0 ? undefined : run.stderr.trim() || `exit ${run.status}`;
  } else {
    failed = (await Promise.all(request.all.map(runOne))).find((error) => error !== undefined);
  }
  const elapsed = performance.now() - started;
  process.stdout.write(failed === undefined ? `${elapsed}\n` : `error ${JSON.stringify(failed.slice(0, 500))}\n`);
}
