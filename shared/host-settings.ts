// The host's own small settings, in <dataDir>/settings.json beside machines.json: what the app,
// browser mode and the CLI share about how the user works (today: the machine used last), so the
// window in Electron, the window in a browser and `onggi` agree.
import * as z from 'zod';
import { MachineName } from './names.js';

export const HostSettingsFile = z.strictObject({
  version: z.literal(1),
  /** The machine chosen last in the window's picker or with `onggi machine use`. */
  lastMachine: MachineName.optional(),
});
export type HostSettingsFile = z.infer<typeof HostSettingsFile>;
