// A file from this computer onto a remote machine, over SFTP (no shell: the remote name is ours,
// random, under /tmp, mode 0600), with progress; for `image import` of a local tarball there.
// And the other way: a file the agent writes there (`export`, `save`) brought to this computer.
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { SshConnection } from './ssh-connection.js';

export interface UploadedFile {
  remotePath: string;
  bytes: number;
  durationMs: number;
  /** Deletes the remote copy (never throws: a leftover in /tmp is not worth failing for). */
  remove(): Promise<void>;
}

export async function uploadFile(
  connection: SshConnection,
  localPath: string,
  onProgress?: (bytes: number, total: number) => void,
): Promise<UploadedFile> {
  let size: number;
  try {
    const info = await stat(localPath);
    if (!info.isFile()) throw new Error('not a regular file');
    size = info.size;
  } catch (error) {
    throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `cannot read ${localPath}: ${errorMessage(error)}`, 'params.path');
  }
  const sftp = await connection.sftp();
  const remotePath = `/tmp/onggi-upload-${randomBytes(16).toString('hex')}`;
  const started = performance.now();
  onProgress?.(0, size);
  await new Promise<void>((resolve, reject) => {
    sftp.fastPut(
      localPath,
      remotePath,
      {
        mode: 0o600,
        concurrency: 64,
        chunkSize: 32 * 1024,
        step: (transferred, _chunk, total) => onProgress?.(transferred, total),
      },
      (error) =>
        error
          ? reject(
              new OnggiError(
                ErrorCode.OperationFailed,
                'upload_failed',
                `uploading ${localPath} to ${connection.label} failed: ${error.message}`,
              ),
            )
          : resolve(),
    );
  });
  const remote = await new Promise<number>((resolve, reject) =>
    sftp.stat(remotePath, (error, stats) => (error ? reject(error) : resolve(stats.size))),
  );
  if (remote !== size) {
    throw new OnggiError(
      ErrorCode.OperationFailed,
      'upload_failed',
      `uploaded ${remote} of ${size} bytes of ${localPath} to ${connection.label}`,
    );
  }
  return {
    remotePath,
    bytes: size,
    durationMs: performance.now() - started,
    remove: () => new Promise<void>((resolve) => sftp.unlink(remotePath, () => resolve())),
  };
}

/**
 * Runs `produce` with a fresh path under the machine's /tmp, then copies that file to `localPath`
 * over SFTP and removes the remote copy, whatever happened. The file is made first by the SSH
 * user, empty and 0600: the agent (root) writes into it and keeps its owner and mode, so a
 * non-root login can read it back and delete it, and nobody else on the machine can read it.
 */
export async function downloadFile(
  connection: SshConnection,
  localPath: string,
  produce: (remotePath: string) => Promise<unknown>,
  onProgress?: (bytes: number, total: number) => void,
): Promise<{ bytes: number; durationMs: number }> {
  const sftp = await connection.sftp();
  const remotePath = `/tmp/onggi-download-${randomBytes(16).toString('hex')}`;
  await new Promise<void>((resolve, reject) =>
    sftp.open(remotePath, 'wx', { mode: 0o600 }, (error, handle) =>
      error ? reject(error) : sftp.close(handle, (closeError) => (closeError ? reject(closeError) : resolve())),
    ),
  );
  try {
    await produce(remotePath);
    const started = performance.now();
    const total = await new Promise<number>((resolve, reject) =>
      sftp.stat(remotePath, (error, stats) => (error ? reject(error) : resolve(stats.size))),
    );
    await new Promise<void>((resolve, reject) =>
      sftp.fastGet(
        remotePath,
        localPath,
        { concurrency: 64, chunkSize: 32 * 1024, step: (transferred, _chunk, size) => onProgress?.(transferred, size) },
        (error) =>
          error
            ? reject(
                new OnggiError(
                  ErrorCode.OperationFailed,
                  'download_failed',
                  `copying ${remotePath} from ${connection.label} to ${localPath} failed: ${error.message}`,
                ),
              )
            : resolve(),
      ),
    );
    const local = (await stat(localPath)).size;
    if (local !== total)
      throw new OnggiError(ErrorCode.OperationFailed, 'download_failed', `received ${local} of ${total} bytes from ${connection.label}`);
    return { bytes: total, durationMs: performance.now() - started };
  } finally {
    await new Promise<void>((resolve) => sftp.unlink(remotePath, () => resolve()));
  }
}
