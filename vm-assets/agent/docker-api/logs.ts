// `GET /containers/{id}/logs`: the agent's log entries as Docker's stream (stdcopy frames without
// a TTY, raw bytes with one), with follow, tail, since/until and timestamps.
import type { AgentEvent } from '../../../shared/agent-rpc.js';
import type { LogEntry } from '../../../shared/containers.js';
import { badRequest, whenNotFound } from './errors.js';
import { queryBool } from './http-io.js';
import type { Exchange } from './router.js';
import { responseSink } from './streams.js';

let nextStream = 0;

/** `since`/`until`: unix seconds, fractional allowed (what the CLI sends for `--since 10m`). */
function unixTime(value: string | null, name: string): number | undefined {
  if (value === null || value === '' || value === '0') return undefined;
  if (!/^\d{1,12}(\.\d{1,9})?$/.test(value)) throw badRequest(`${name} must be a unix timestamp, not ${JSON.stringify(value)}`);
  return Number(value) * 1000;
}

export async function streamLogs(ex: Exchange): Promise<void> {
  const selector = ex.params.id ?? '';
  const want = { stdout: queryBool(ex.query, 'stdout'), stderr: queryBool(ex.query, 'stderr') };
  if (!want.stdout && !want.stderr) throw badRequest('you must choose at least one stream');
  const tailText = ex.query.get('tail') ?? 'all';
  if (tailText !== 'all' && tailText !== '' && !/^-?\d{1,7}$/.test(tailText))
    throw badRequest(`tail must be "all" or a number, not ${JSON.stringify(tailText)}`);
  // A negative number means all, as in dockerd (testcontainers asks for tail=-1).
  const tail = tailText === 'all' || tailText === '' || tailText.startsWith('-') ? undefined : Number(tailText);
  const sinceMs = unixTime(ex.query.get('since'), 'since');
  const untilMs = unixTime(ex.query.get('until'), 'until');
  const follow = queryBool(ex.query, 'follow');
  const timestamps = queryBool(ex.query, 'timestamps');
  const detail = await ex.backend
    .call('containers.inspect', { container: selector })
    .catch(whenNotFound(`No such container: ${selector}`, 'params.container'));
  const sink = responseSink(ex.res, detail.tty ?? false);
  const write = (entries: LogEntry[]): void => {
    for (const entry of entries) {
      if (!want[entry.stream]) continue;
      if (untilMs !== undefined && Date.parse(entry.time) > untilMs) continue;
      sink.write(entry.stream, Buffer.from(timestamps ? `${entry.time} ${entry.log}` : entry.log));
    }
  };
  const streamId = `docker-logs-${(nextStream += 1)}`;
  const notify = (event: AgentEvent): void => {
    if (event.type === 'container.log' && event.streamId === streamId) write(event.entries);
  };
  await ex.backend.call(
    'containers.logs',
    {
      container: detail.id,
      ...(tail === undefined ? {} : { tail }),
      ...(sinceMs === undefined ? {} : { since: new Date(sinceMs).toISOString() }),
      follow: follow && untilMs === undefined,
      streamId,
    },
    notify,
  );
  sink.end();
}
