// Uploading a file from the window (drag and drop, file picker) to import it as an image: the
// browser reads the file and sends it in bounded chunks; the host writes them to a temporary file
// under its data dir (size capped, offsets checked) and imports that with `importImageFile`.
import * as z from 'zod';
import { ImageSummary, imageMethods } from './images.js';
import { MachineName } from './names.js';

/** The most bytes of one chunk (before base64). */
export const UPLOAD_CHUNK_BYTES = 512 * 1024;
/** The biggest file the window may upload (an image tarball). */
export const UPLOAD_MAX_BYTES = 16 * 1024 ** 3;

const UploadId = z
  .string()
  .max(64)
  .regex(/^[a-f0-9-]{8,64}$/, 'must be an upload id from images.upload.begin');
const importParams = imageMethods['images.import'].params.shape;

export const uploadMethods = {
  /** Reserves a temporary file for `size` bytes; the import options are kept for the commit. */
  'images.upload.begin': {
    params: z.strictObject({
      machine: MachineName,
      size: z.number().int('must be a whole number').min(1, 'must be 1 or more').max(UPLOAD_MAX_BYTES, 'must be at most 16 GiB'),
      /** The file's name here, for progress messages. */
      file: z.string().max(255).optional(),
      kind: importParams.kind,
      name: importParams.name,
    }),
    result: z.strictObject({ id: UploadId }),
  },
  /** The bytes at `offset` (which must be where the last chunk ended), base64. */
  'images.upload.chunk': {
    params: z.strictObject({
      id: UploadId,
      offset: z.number().int().min(0).max(UPLOAD_MAX_BYTES),
      data: z
        .string()
        .min(1, 'must not be empty')
        .max(Math.ceil(UPLOAD_CHUNK_BYTES / 3) * 4, 'must be at most 512 KiB (base64)')
        .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
    }),
    result: z.strictObject({ received: z.number().int().min(0) }),
  },
  /** Imports the complete file on its machine; the temporary file is removed either way. */
  'images.upload.commit': { params: z.strictObject({ id: UploadId }), result: z.array(ImageSummary).max(256) },
  /** Drops an upload and its temporary file. */
  'images.upload.abort': { params: z.strictObject({ id: UploadId }), result: z.strictObject({}) },
} as const;
