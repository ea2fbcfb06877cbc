// The Electron window's native folder dialog: the one preload call besides the host API (browser
// mode has no such dialog: there the user types the path). The page asks with a title; main shows
// `dialog.showOpenDialog({ properties: ['openDirectory'] })` over the window and answers with the
// chosen folder, or null when the user cancelled. Both ends check these shapes.
import * as z from 'zod';
import { DesktopFolder } from './shares.js';

/** IPC channel shared by electron/main and electron/preload. */
export const IPC_PICK_FOLDER_CHANNEL = 'onggi:pickFolder';

export const PickFolderRequest = z.strictObject({
  /** The dialog's title, in the window's language. */
  title: z.string().min(1, 'must not be empty').max(200),
  /** Where the dialog opens (a desktop folder); the OS's default when absent. */
  defaultPath: DesktopFolder.optional(),
});
export type PickFolderRequest = z.infer<typeof PickFolderRequest>;

export const PickFolderResult = z.strictObject({ path: DesktopFolder.nullable() });
export type PickFolderResult = z.infer<typeof PickFolderResult>;
