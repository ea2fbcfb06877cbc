// The POSIX sh scripts deploy runs on the machine. They are constants: every value reaches them as
// a positional argument ("$1"…), quoted word by word (shellCommand), never spliced into the text.
// (The daemon's Node flags and environment are constants of shared/agent-launch.ts, checked there.)
import { agentDaemonLaunchWords } from '../../../shared/agent-launch.js';

const LAUNCH = agentDaemonLaunchWords();

/**
 * Installs uploaded parts as root. Arguments: ROOT, then per part KIND ID SHA256 FILE FORMAT.
 * Each part is checked against its sha256, unpacked into a staging dir and renamed into
 * ROOT/KIND/ID in one step, so a half-unpacked directory never carries the final name.
 */
export const INSTALL_SCRIPT = `
set -eu
umask 022
root=$1; shift
mkdir -p "$root/runtime" "$root/agent" "$root/.staging"
chmod 755 "$root" "$root/runtime" "$root/agent"
chmod 700 "$root/.staging"
while [ $# -ge 5 ]; do
  kind=$1 id=$2 sum=$3 file=$4 format=$5; shift 5
  dest="$root/$kind/$id"
  if [ -d "$dest" ]; then rm -f "$file"; echo "present=$kind"; continue; fi
  actual=$(sha256sum "$file" | cut -d' ' -f1)
  if [ "$actual" != "$sum" ]; then
    rm -f "$file"
    echo "the uploaded $kind does not match its hash: expected $sum, got $actual" >&2
    exit 3
  fi
  stage=$(mktemp -d "$root/.staging/$id.XXXXXX")
  case $format in
    xz) tar -xJf "$file" -C "$stage" --no-same-owner ;;
    gz) tar -xzf "$file" -C "$stage" --no-same-owner ;;
    *) echo "unknown format $format" >&2; exit 2 ;;
  esac
  chmod 755 "$stage"
  rm -f "$file"
  if ! mv -T "$stage" "$dest" 2>/dev/null; then
    rm -rf "$stage"
    [ -d "$dest" ] || { echo "cannot move $kind into $dest" >&2; exit 4; }
  fi
  echo "installed=$kind"
done
`;

/**
 * The background supervisor (machines without systemd): restarts the daemon when it exits, with a
 * backoff for a daemon that keeps dying; on SIGTERM stops the daemon and itself. Arguments: NODE
 * AGENT SOCKET STATE RUNDIR.
 */
export const SUPERVISOR_SCRIPT = `
node=$1 agent=$2 sock=$3 state=$4 run=$5
echo $$ > "$run/supervisor.pid"
child=
stop() {
  trap - TERM INT
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi
  [ "$(cat "$run/supervisor.pid" 2>/dev/null)" = "$$" ] && rm -f "$run/supervisor.pid"
  exit 0
}
trap stop TERM INT
delay=1
while :; do
  # Another supervisor took over (a newer activation): this one bows out.
  [ "$(cat "$run/supervisor.pid" 2>/dev/null)" = "$$" ] || exit 0
  started=$(date +%s)
  ${LAUNCH.env.join(' ')} "$node" ${LAUNCH.flags.join(' ')} "$agent" daemon --socket "$sock" --state "$state" &
  child=$!
  wait "$child"
  status=$?
  child=
  if [ $(( $(date +%s) - started )) -gt 30 ]; then delay=1; else delay=$(( delay * 2 )); [ "$delay" -gt 30 ] && delay=30; fi
  echo "onggi-agent-supervisor: the agent exited ($status); restarting in $delay s"
  sleep "$delay" &
  child=$!
  wait "$child"
  child=
done
`;

export const SYSTEMD_UNIT_PATH = '/etc/systemd/system/onggi-agent.service';

/** The unit, for reading; the activate script writes the same lines from its arguments. */
export function systemdUnit(node: string, agent: string, socket: string, state: string): string {
  return [
    '[Unit]',
    'Description=Onggi agent',
    'After=network-online.target',
    '',
    '[Service]',
    ...LAUNCH.env.map((word) => `Environment=${word}`),
    `ExecStart=${[node, ...LAUNCH.flags, agent].join(' ')} daemon --socket ${socket} --state ${state}`,
    'Restart=always',
    'RestartSec=2',
    // Containers outlive the agent: a restart must signal the daemon only, not its cgroup.
    'KillMode=process',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * (Re)starts the daemon on the given runtime and agent, as root. Arguments: MODE (systemd |
 * background) NODE AGENT SOCKET STATE RUNDIR SUPERVISOR_SCRIPT. Waits until the new daemon has
 * written its pid file and its socket exists; prints `pid=N`.
 */
export const ACTIVATE_SCRIPT = `
set -u
mode=$1 node=$2 agent=$3 sock=$4 state=$5 run=$6 supervisor=$7
unit=${SYSTEMD_UNIT_PATH}
umask 022
mkdir -p "$run" "$state"
chmod 700 "$run" "$state"
# One activation at a time on a machine (two apps deploying at once must not both start one).
if command -v flock >/dev/null 2>&1; then exec 9>"$run/activate.lock"; flock -w 60 9 || true; fi
touch "$(dirname "$node")/.." "$(dirname "$agent")" 2>/dev/null || true
old=$(cat "$run/agent.pid" 2>/dev/null || true)
stop_background() {
  sp=$(cat "$run/supervisor.pid" 2>/dev/null || true)
  if [ -n "$sp" ]; then kill -TERM "$sp" 2>/dev/null || true; fi
  if [ -n "$old" ] && kill -0 "$old" 2>/dev/null; then
    kill -TERM "$old" 2>/dev/null || true
    i=0
    while kill -0 "$old" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    if kill -0 "$old" 2>/dev/null; then kill -KILL "$old" 2>/dev/null || true; fi
  fi
  i=0
  while [ -n "$sp" ] && kill -0 "$sp" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  rm -f "$run/supervisor.pid"
}
if [ "$mode" = systemd ]; then
  [ -f "$run/supervisor.pid" ] && stop_background
  printf '%s\\n' '[Unit]' 'Description=Onggi agent' 'After=network-online.target' '' '[Service]' \\
    ${LAUNCH.env.map((word) => `'Environment=${word}'`).join(' ')} "ExecStart=$node ${LAUNCH.flags.join(' ')} $agent daemon --socket $sock --state $state" 'Restart=always' 'RestartSec=2' 'KillMode=process' '' \\
    '[Install]' 'WantedBy=multi-user.target' > "$unit.tmp"
  mv -f "$unit.tmp" "$unit"
  systemctl daemon-reload
  systemctl enable onggi-agent.service >/dev/null 2>&1 || true
  if ! systemctl restart onggi-agent.service; then
    journalctl -u onggi-agent.service -n 20 --no-pager >&2 2>/dev/null || true
    exit 5
  fi
else
  stop_background
  setsid -f sh -c "$supervisor" onggi-agent-supervisor "$node" "$agent" "$sock" "$state" "$run" </dev/null >>"$run/agent.log" 2>&1 9>&-
fi
# Up to 90 s: an emulated VM or a small board under load starts Node slowly; ready ends the wait.
i=0
while [ $i -lt 900 ]; do
  new=$(cat "$run/agent.pid" 2>/dev/null || true)
  if [ -n "$new" ] && [ "$new" != "$old" ] && [ -S "$sock" ]; then echo "pid=$new"; exit 0; fi
  sleep 0.1
  i=$((i+1))
done
echo "the agent did not start within 90 s; the end of $run/agent.log:" >&2
tail -n 20 "$run/agent.log" >&2 2>/dev/null || true
exit 5
`;

/**
 * Keeps the current runtime and agent and the newest other one of each; removes older ones.
 * Arguments: ROOT KEEP CURRENT_RUNTIME_ID CURRENT_AGENT_ID. Only 64-hex names are ever removed.
 */
export const PRUNE_SCRIPT = `
set -u
root=$1 keep=$2 current_runtime=$3 current_agent=$4
for kind in runtime agent; do
  dir="$root/$kind"
  [ -d "$dir" ] || continue
  if [ "$kind" = runtime ]; then current=$current_runtime; else current=$current_agent; fi
  others=0
  for name in $(ls -1t "$dir"); do
    case $name in *[!0-9a-f]*) continue ;; esac
    [ \${#name} -eq 64 ] || continue
    [ "$name" = "$current" ] && continue
    others=$((others+1))
    if [ "$others" -ge "$keep" ]; then rm -rf "\${dir:?}/$name" && echo "removed=$kind/$name"; fi
  done
done
find "$root/.staging" -mindepth 1 -maxdepth 1 -mmin +60 -exec rm -rf {} + 2>/dev/null || true
`;
