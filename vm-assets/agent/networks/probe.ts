// A bounded connectivity check from inside a container's network namespace: one ping, or one TCP
// connect. The tools are the machine's (entered with nsenter --net), so a container image without
// ping or nc can still be probed, and the answer is about the network, not the image.
import { errorMessage } from '../../../shared/errors.js';
import type { ActivityLog } from '../activity/activity-log.js';
import { CommandFailedError } from '../activity/activity-log.js';
import { findBinary, inNetns } from './commands.js';

/** One TCP connect, bounded, reporting JSON; run by the agent's own Node inside the netns. */
const TCP_CONNECT = `
const net = require('node:net');
const [host, port, timeout] = process.argv.slice(1);
const started = performance.now();
const done = (result) => { process.stdout.write(JSON.stringify(result)); process.exit(0); };
const socket = net.connect({ host, port: Number(port) });
setTimeout(() => done({ ok: false, error: 'timed out after ' + timeout + ' ms' }), Number(timeout)).unref();
socket.once('connect', () => done({ ok: true, ms: performance.now() - started }));
socket.once('error', (error) => done({ ok: false, error: error.code || error.message }));
`;

export interface ProbeOutcome {
  ok: boolean;
  latencyMs: number | null;
  error: string | null;
  command: string[];
}

export async function pingCommand(): Promise<string[] | undefined> {
  if (await findBinary('ping')) return ['ping'];
  // Minimal machines (and this project's test hosts) may have busybox but no iputils.
  if (await findBinary('busybox')) return ['busybox', 'ping'];
  return undefined;
}

export async function probePing(
  activity: ActivityLog,
  pid: number,
  address: string,
  timeoutMs: number,
  scope: { container: string },
): Promise<ProbeOutcome> {
  const ping = await pingCommand();
  if (!ping) return { ok: false, latencyMs: null, error: 'no ping on this machine (install iputils-ping), or probe with tcp', command: [] };
  const seconds = String(Math.max(1, Math.round(timeoutMs / 1000)));
  const command = [...inNetns(pid), ...ping, '-c', '1', '-W', seconds, address];
  try {
    const { stdout } = await activity.run(command, scope);
    // ping has no machine-readable output; the round trip is its `time=` field.
    const match = /time[=<]\s*([\d.]+)\s*ms/.exec(stdout);
    return { ok: true, latencyMs: match?.[1] ? Number(match[1]) : null, error: null, command };
  } catch (error) {
    const detail = error instanceof CommandFailedError ? lastLine(error.stderr) || 'no reply' : errorMessage(error);
    return { ok: false, latencyMs: null, error: detail, command };
  }
}

export async function probeTcp(
  activity: ActivityLog,
  pid: number,
  address: string,
  port: number,
  timeoutMs: number,
  scope: { container: string },
): Promise<ProbeOutcome> {
  const command = [...inNetns(pid), process.execPath, '-e', TCP_CONNECT, address, String(port), String(timeoutMs)];
  // The activity log shows the command with its script; the script is a constant, the inputs are argv.
  try {
    const { stdout } = await activity.run(command, scope);
    const result = JSON.parse(stdout) as { ok: boolean; ms?: number; error?: string };
    return {
      ok: result.ok,
      latencyMs: result.ms === undefined ? null : Math.round(result.ms * 1000) / 1000,
      error: result.error ?? null,
      command,
    };
  } catch (error) {
    return { ok: false, latencyMs: null, error: errorMessage(error), command };
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
