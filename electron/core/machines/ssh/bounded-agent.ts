// An ssh-agent that must list its keys within a deadline, else it counts as not running. ssh2
// waits for an agent forever; Pageant is reached through a helper process (ssh2's pagent.exe),
// which was seen to hang under Wine where no Pageant runs, and would then hold up every connection
// attempt until our SSH handshake deadline. Past the deadline the agent's stream is destroyed
// (which ends the helper) and ssh2 goes on to the next authentication method.
import type { Duplex } from 'node:stream';
import type { BaseAgent, IdentityCallback, ParsedKey, SignCallback, SigningRequestOptions } from 'ssh2';
import { ssh2 } from './ssh2-runtime.js';

export const AGENT_ANSWER_MS = 5000;

type StreamingAgent = BaseAgent & { getStream?: (cb: (error: Error | null | undefined, stream?: Duplex) => void) => void };

export function boundedAgent(path: string, timeoutMs = AGENT_ANSWER_MS): BaseAgent {
  const { BaseAgent: Base, createAgent } = ssh2();
  const inner = createAgent(path) as StreamingAgent;
  const streams = new Set<Duplex>();
  const getStream = inner.getStream?.bind(inner);
  if (getStream) {
    inner.getStream = (cb) =>
      getStream((error, stream) => {
        if (stream) {
          streams.add(stream);
          stream.once('close', () => streams.delete(stream));
        }
        cb(error, stream);
      });
  }
  class Bounded extends Base {
    override getIdentities(cb: IdentityCallback): void {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        for (const stream of streams) stream.destroy();
        cb(new Error(`the ssh-agent ${path} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      inner.getIdentities((error, keys) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        cb(error, keys);
      });
    }

    override sign(
      pubKey: string | Buffer | ParsedKey,
      data: Buffer,
      options: SigningRequestOptions | SignCallback,
      cb?: SignCallback,
    ): void {
      if (typeof options === 'function') inner.sign(pubKey, data, options);
      else inner.sign(pubKey, data, options, cb);
    }
  }
  return new Bounded();
}
