// A machine's clock as the desktop sees it. Laptops sleep and VMs are paused with them; a guest's
// clock then lags by the time it was stopped (docker/for-win#5593, for-mac#2921, podman#28431),
// and TLS, `make`, JWTs and log times go wrong. The host measures the offset on every handshake and
// now and then on a live link; on machines Onggi runs it steps the clock back in line.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

/** Offsets up to this are left alone (a second is below what builds and TLS notice). */
export const CLOCK_TOLERANCE_MS = 1000;

/** `correct`: Onggi runs the machine (a Vagrant VM, a guest of its own) and steps its clock; `report`: shown, never changed (an SSH host keeps its own NTP). */
export const ClockPolicy = lazySchema(() => z.enum(['correct', 'report']));
export type ClockPolicy = z.infer<typeof ClockPolicy>;

/** How the agent stepped the clock, and by how much (positive: it moved forward). */
export const ClockStep = lazySchema(() =>
  z.strictObject({
    method: z.enum(['chronyc makestep', 'date']),
    stepMs: z.number().int(),
  }),
);
export type ClockStep = z.infer<typeof ClockStep>;

export const MachineClock = lazySchema(() =>
  z.strictObject({
    /** The machine's clock minus the desktop's, in ms, taken at the midpoint of the round trip. */
    offsetMs: z.number().int(),
    /** The round trip the offset was measured over (the offset is good to about half of it). */
    rttMs: z.number().int().nonnegative(),
    /** When it was measured (the desktop's epoch ms). */
    checkedAt: z.number().int().nonnegative(),
    policy: ClockPolicy,
    /** The last step Onggi made to this machine's clock, since the app started. */
    corrected: z
      .strictObject({
        at: z.number().int().nonnegative(),
        /** The offset before the step. */
        offsetBeforeMs: z.number().int(),
        method: ClockStep.shape.method,
      })
      .optional(),
    /** Why the last correction failed, when it did (the offset is then still reported). */
    error: z.string().max(4096).optional(),
  }),
);
export type MachineClock = z.infer<typeof MachineClock>;

export interface ClockSample {
  offsetMs: number;
  rttMs: number;
}

/** One round trip: the agent's time against the midpoint of the desktop's send and receive. */
export function sampleOf(sentAt: number, agentNow: number, receivedAt: number): ClockSample {
  return { offsetMs: Math.round(agentNow - (sentAt + receivedAt) / 2), rttMs: Math.max(0, Math.round(receivedAt - sentAt)) };
}
