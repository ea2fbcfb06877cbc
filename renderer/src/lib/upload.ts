// Sends a file the user dropped or picked to the host in bounded chunks (images.upload.*), then
// has the host import it. A failure part way cancels the upload so no temporary file is left.
import type { HostApi, HostParams } from '../../../shared/host-api.js';
import type { ImageSummary } from '../../../shared/images.js';
import { UPLOAD_CHUNK_BYTES } from '../../../shared/uploads.js';

/** Base64 of some bytes, without building one huge argument list for String.fromCharCode. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000));
  }
  return btoa(binary);
}

/** A slice's bytes (FileReader: in every browser, Electron's renderer and jsdom alike). */
function readBytes(blob: Blob): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.readAsArrayBuffer(blob);
  });
}

export async function uploadImageFile(
  api: Pick<HostApi, 'call'>,
  file: Blob & { name?: string },
  options: Omit<HostParams<'images.upload.begin'>, 'size' | 'file'>,
  onProgress: (sent: number, total: number) => void,
): Promise<ImageSummary[]> {
  const { id } = await api.call('images.upload.begin', {
    ...options,
    size: file.size,
    ...(file.name ? { file: file.name.slice(0, 255) } : {}),
  });
  try {
    onProgress(0, file.size);
    for (let offset = 0; offset < file.size; offset += UPLOAD_CHUNK_BYTES) {
      const bytes = await readBytes(file.slice(offset, offset + UPLOAD_CHUNK_BYTES));
      const { received } = await api.call('images.upload.chunk', { id, offset, data: toBase64(bytes) });
      onProgress(received, file.size);
    }
  } catch (error) {
    // the upload's own error (rethrown below) is what the user sees; the host reaps an abandoned upload
    await api.call('images.upload.abort', { id }).catch(() => undefined);
    throw error;
  }
  return api.call('images.upload.commit', { id });
}
