// A terminal on an SSH machine that survives the link (DESIGN §6): the command runs under the
// agent's holder (vm-assets/agent/terminal-hold.ts), and the SSH channel only carries frames to
// and from it. When the link drops, the channel closes but the terminal does not end: its input
// waits (bounded), and once the machine's link is back `reattach()` opens a new channel that asks
// for the output from the last byte received, so nothing is printed twice or lost.
import { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { ConsoleDecoder, consoleFrame, inputFrames, resizeFrame } from '../../../../shared/console-frames.js';
import { TERMINAL_BACKLOG_MAX } from '../../../../shared/terminals.js';
import type { Terminal, TerminalExit } from '../machine.js';
import { channelExit } from './ssh-connection.js';

/** `agent hold --reattach` found no session (vm-assets/agent/terminal-hold.ts HOLD_GONE_EXIT). */
const HOLD_GONE_EXIT = 3;

/** Opens the channel running `agent hold`: from this output offset; `reattach`: never start the command. */
export type HoldChannelOpener = (from: number, reattach: boolean) => Promise<ClientChannel>;

export interface HeldTerminal extends Terminal {
  /** Whether a channel carries the session now. */
  readonly attached: boolean;
  /** Opens a new channel to the session after the old one closed (a no-op while attached or ended). */
  reattach(): Promise<void>;
}

export async function openHeldTerminal(
  open: HoldChannelOpener,
  size: { cols: number; rows: number },
  onDetached: (terminal: HeldTerminal) => void,
): Promise<HeldTerminal> {
  let channel: ClientChannel | undefined;
  let attaching: Promise<void> | undefined;
  let offset = 0;
  let ended = false;
  let hungUp = false;
  let { cols, rows } = size;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let finish: (exit: TerminalExit) => void = () => undefined;
  const exit = new Promise<TerminalExit>((resolve) => (finish = resolve));

  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      if (channel) for (const frame of inputFrames(chunk)) channel.write(frame);
      else if (pendingBytes + chunk.length <= TERMINAL_BACKLOG_MAX) {
        // Typed while the link is down: sent once it is back (what does not fit is dropped, as a
        // terminal whose program does not read drops keys).
        pending.push(chunk);
        pendingBytes += chunk.length;
      }
      callback();
    },
  });

  const end = (result: TerminalExit): void => {
    if (ended) return;
    ended = true;
    stream.push(null);
    finish(result);
  };

  const attach = async (reattach: boolean): Promise<void> => {
    const opened = await open(offset, reattach);
    if (ended) return void opened.close();
    const decoder = new ConsoleDecoder();
    let started = false;
    opened.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        stream.push(Buffer.from(`\r\n[onggi: ${(error as Error).message}]\r\n`));
        return void opened.close();
      }
      for (const frame of frames) {
        if (frame.type === 'start') {
          started = true;
          // More was printed while we were away than the machine keeps: say so rather than splice.
          if (frame.offset > offset) stream.push(Buffer.from(`\r\n[onggi: ${frame.offset - offset} bytes of output were lost while the link was down]\r\n`));
          offset = frame.offset;
        } else if (frame.type === 'exit') end({ code: frame.code });
        else {
          offset += frame.data.length;
          stream.push(frame.data);
        }
      }
    });
    opened.stderr.on('data', () => undefined);
    opened.on('error', () => undefined);
    void channelExit(opened).then((status) => {
      if (channel !== opened) return;
      channel = undefined;
      if (ended) return;
      // The holder was never reached: the session is gone (or `hold` could not start it).
      if (!started && (status.code === HOLD_GONE_EXIT || !reattach)) return end({ code: null });
      if (hungUp) return end({ code: null });
      onDetached(held);
    });
    channel = opened;
    opened.write(resizeFrame(rows, cols));
    for (const chunk of pending.splice(0)) for (const frame of inputFrames(chunk)) opened.write(frame);
    pendingBytes = 0;
  };

  const held: HeldTerminal = {
    stream,
    stderr: undefined,
    get attached() {
      return channel !== undefined;
    },
    resize(newCols, newRows) {
      if (newCols <= 0 || newRows <= 0) return;
      cols = newCols;
      rows = newRows;
      channel?.write(resizeFrame(rows, cols));
    },
    exit,
    reattach() {
      if (ended || channel) return Promise.resolve();
      attaching ??= attach(true).finally(() => {
        attaching = undefined;
      });
      return attaching;
    },
    close() {
      hungUp = true;
      if (channel) channel.end(consoleFrame('k'));
      // Detached: the hang-up goes on the next channel (best effort; a lost machine keeps it for a day).
      else
        void attach(true)
          .then(() => channel?.end(consoleFrame('k')))
          .catch(() => end({ code: null }));
    },
  };
  await attach(false);
  return held;
}
