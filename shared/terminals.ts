// Terminals between the window and the host: a session is a PTY on a machine (its shell) or in a
// container (an exec), opened, fed and resized by id; its output and its end come back as events.
// Every size is bounded: a terminal cannot be used to push unbounded frames through either transport.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { ContainerSelector } from './containers.js';
import { MachineName } from './names.js';

export const TerminalId = lazySchema(() => z.string().regex(/^term-[a-z0-9-]{1,60}$/));
export type TerminalId = z.infer<typeof TerminalId>;

export const TerminalCols = lazySchema(() => z.number().int().min(2).max(1000));
export const TerminalRows = lazySchema(() => z.number().int().min(1).max(500));

/** Most bytes of input one call carries (a paste larger than this is sent in pieces). */
export const TERMINAL_INPUT_MAX = 64 * 1024;
/** Most characters of output one event carries; larger chunks are split. */
export const TERMINAL_OUTPUT_MAX = 64 * 1024;
/** Output the host keeps per session, replayed to a window that attaches again. */
export const TERMINAL_BACKLOG_MAX = 256 * 1024;

export const TerminalOpenParams = lazySchema(() =>
  z.strictObject({
    machine: MachineName,
    /** Exec into this container; absent: the machine's own login shell. */
    container: ContainerSelector.optional(),
    /** The program and its arguments (default in a container: /bin/sh). Never joined into a shell line. */
    command: z.array(z.string().min(1).max(4096)).min(1).max(64).optional(),
    cols: TerminalCols,
    rows: TerminalRows,
    /** The container's own console (`docker attach`) rather than a new command in it; needs container. */
    attach: z.boolean().optional(),
  }),
);
export type TerminalOpenParams = z.infer<typeof TerminalOpenParams>;

export const TerminalSession = lazySchema(() =>
  z.strictObject({
    id: TerminalId,
    machine: MachineName,
    container: ContainerSelector.optional(),
    command: z.array(z.string().max(4096)).max(64),
    /** The container's own console (empty command). */
    attach: z.boolean().optional(),
    /** Set once the program ended. */
    exit: z.strictObject({ code: z.number().int().nullable(), signal: z.string().max(32).optional() }).optional(),
  }),
);
export type TerminalSession = z.infer<typeof TerminalSession>;

export const terminalMethods = {
  'terminals.open': { params: TerminalOpenParams, result: TerminalSession },
  'terminals.input': {
    params: lazySchema(() => z.strictObject({ id: TerminalId, data: z.string().max(TERMINAL_INPUT_MAX) })),
    result: lazySchema(() => z.strictObject({})),
  },
  'terminals.resize': {
    params: lazySchema(() => z.strictObject({ id: TerminalId, cols: TerminalCols, rows: TerminalRows })),
    result: lazySchema(() => z.strictObject({})),
  },
  'terminals.close': { params: lazySchema(() => z.strictObject({ id: TerminalId })), result: lazySchema(() => z.strictObject({})) },
  /** The open sessions with their recent output, to reattach after leaving the view or a dropped link. */
  'terminals.list': {
    params: lazySchema(() => z.strictObject({}).optional()),
    result: lazySchema(() => z.array(TerminalSession.extend({ backlog: z.string().max(TERMINAL_BACKLOG_MAX) })).max(256)),
  },
} as const;

export const TerminalOutputEvent = lazySchema(() =>
  z.strictObject({
    type: z.literal('terminal.output'),
    id: TerminalId,
    data: z.string().max(TERMINAL_OUTPUT_MAX),
  }),
);
export const TerminalExitEvent = lazySchema(() =>
  z.strictObject({
    type: z.literal('terminal.exit'),
    id: TerminalId,
    code: z.number().int().nullable(),
    signal: z.string().max(32).optional(),
  }),
);
