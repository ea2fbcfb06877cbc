// A terminal on an SSH machine that survives the link (DESIGN §6): the command runs under the
// agent's holder (vm-assets/agent/terminal-hold.ts), and the SSH channel only carries frames to
// and from it. When the link drops, the channel closes but the terminal does not end: its input
// waits (bounded), and once the machine's link is back `reattach()` opens a new channel that asks
// for the output from the last byte received, so nothing is printed twice or lost. Input works the
// same way the other way round: keys written into a link that turned out dead never arrived; the
// holder says how much input it has taken, and the rest is sent again.
import { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { ConsoleDecoder, consoleFrame, inputFrames, resizeFrame } from '../../../../shared/console-frames.js';
import { TERMINAL_INPUT_MAX } from '../../../../shared/terminals.js';
import type { Terminal, TerminalExit } from '../machine.js';
import { channelExit } from './ssh-connection.js';

/** `agent hold --reattach` found no session (vm-assets/agent/terminal-hold.ts HOLD_GONE_EXIT). */
const HOLD_GONE_EXIT = 3;
/** Input kept until the holder confirms it (on a reattach): what was typed into a dying link. */
const INPUT_KEPT_MAX = 4 * TERMINAL_INPUT_MAX;

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
  /** The channel's holder has said where it stands (its 's' frame came). */
  let joined = false;
  let attaching: Promise<void> | undefined;
  let offset = 0;
  let ended = false;
  let hungUp = false;
  let { cols, rows } = size;
  /** Input written (or waiting) in all, and its last INPUT_KEPT_MAX bytes. */
  let inputTotal = 0;
  let inputKept = Buffer.alloc(0);
  let finish: (exit: TerminalExit) => void = () => undefined;
  const exit = new Promise<TerminalExit>((resolve) => (finish = resolve));

  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      inputTotal += chunk.length;
      inputKept = Buffer.concat([inputKept, chunk]);
      if (inputKept.length > INPUT_KEPT_MAX) inputKept = inputKept.subarray(inputKept.length - INPUT_KEPT_MAX);
      // Not joined yet (or the link is down): sent once the holder says what it has.
      if (channel && joined) for (const frame of inputFrames(chunk)) channel.write(frame);
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
          if (frame.offset > offset)
            stream.push(Buffer.from(`\r\n[onggi: ${frame.offset - offset} bytes of output were lost while the link was down]\r\n`));
          offset = frame.offset;
          // What we typed that never reached the holder (into a link that was already dead).
          const missing = Math.min(Math.max(0, inputTotal - frame.input), inputKept.length);
          for (const piece of inputFrames(inputKept.subarray(inputKept.length - missing))) opened.write(piece);
          joined = true;
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
      joined = false;
      if (ended) return;
      // The holder was never reached: the session is gone (or `hold` could not start it).
      if (!started && (status.code === HOLD_GONE_EXIT || !reattach)) return end({ code: null });
      if (hungUp) return end({ code: null });
      onDetached(held);
    });
    channel = opened;
    joined = false;
    opened.write(resizeFrame(rows, cols));
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
      if (channel) {
        channel.end(consoleFrame('k'));
        return;
      }
      // Detached: the hang-up goes on the next channel (best effort; a lost machine keeps it for a day).
      void attach(true).then(
        () => channel?.end(consoleFrame('k')),
        // A machine we cannot reach now ends the session here; its holder hangs up on its own later.
        () => end({ code: null }),
      );
    },
  };
  await attach(false);
  return held;
}
