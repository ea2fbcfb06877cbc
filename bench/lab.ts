// The netns lab for the cases that make bridges, veths and packet filter rules (2, 7): the agent
// daemon runs inside a netns the bench made (build/testing/netns-lab.ts), never in the machine's
// own; the bench talks to it over its unix socket. Registers the case file's hooks; cleanup ends
// the daemon (by its pid file) and every container (their cgroups), unmounts and deletes the netns,
// after a failure too.
import { afterAll, beforeAll } from 'vitest';
import { connectAgent, type AgentTestClient } from '../build/testing/agent-client.js';
import { createLab, type NetnsLab } from '../build/testing/netns-lab.js';

export interface BenchLab {
  lab: NetnsLab;
  client: AgentTestClient;
}

/** Call at the top of a case file; the returned function gives the lab once beforeAll has run. */
export function useNetnsLab(): () => BenchLab {
  let lab: NetnsLab | undefined;
  let client: AgentTestClient | undefined;
  beforeAll(async () => {
    lab = await createLab();
    client = await connectAgent(lab.sandbox.socketPath);
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await lab?.cleanup();
  }, 600_000);
  return () => {
    if (!lab || !client) throw new Error('the netns lab is not up');
    return { lab, client };
  };
}
