// A stand-in for Electron's unpacked distribution, so `electron-builder --dir` can package the
// app where the real binary cannot be downloaded (passed as -c.electronDist=<dir>).
//
// For Linux, electron-builder copies the folder and renames its `electron` file to the app's
// executable; then it flips the fuses from electron-builder.yml, which needs the fuse wire that
// every real Electron binary carries: a sentinel string, the wire's version and length, and one
// byte per fuse ('0' off, '1' on). The stand-in carries that wire with Electron's defaults, so the
// fuse step runs for real and its result can be read back with @electron/fuses.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** @electron/fuses' marker that precedes the fuse wire in the Electron binary. */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

/**
 * Electron's default fuse states, in @electron/fuses' FuseV1Options order: RunAsNode,
 * EnableCookieEncryption, EnableNodeOptionsEnvironmentVariable, EnableNodeCliInspectArguments,
 * EnableEmbeddedAsarIntegrityValidation, OnlyLoadAppFromAsar, LoadBrowserProcessSpecificV8Snapshot,
 * GrantFileProtocolExtraPrivileges.
 */
export const DEFAULT_FUSE_WIRE = '10110001';

/** Writes the stand-in into `dir` (created if needed) and returns `dir`. */
export async function writeElectronStandIn(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const executable = join(dir, 'electron');
  const wire = Buffer.concat([
    Buffer.from('#!/bin/sh\n# Stand-in for the Electron binary (packaging tests only). Fuse wire: '),
    Buffer.from(FUSE_SENTINEL),
    Buffer.from([1, DEFAULT_FUSE_WIRE.length]),
    Buffer.from(DEFAULT_FUSE_WIRE),
    Buffer.from('\necho "this is not Electron" >&2\nexit 1\n'),
  ]);
  await writeFile(executable, wire);
  await chmod(executable, 0o755);
  return dir;
}

/** The fuse states in an Electron binary (or the stand-in), as the wire's '0'/'1' characters. */
export async function readFuseWire(executable: string): Promise<string> {
  const binary = await readFile(executable);
  const at = binary.indexOf(FUSE_SENTINEL);
  if (at === -1) throw new Error(`${executable} carries no fuse wire`);
  const length = binary[at + FUSE_SENTINEL.length + 1] ?? 0;
  const start = at + FUSE_SENTINEL.length + 2;
  return binary.subarray(start, start + length).toString('latin1');
}
