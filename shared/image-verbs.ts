// `commit` and `image save`: their agent RPC methods (apart from images.ts, which others change too).
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { ContainerSelector } from './containers.js';
import { ImageReference, ImageSelector, ImageSummary } from './images.js';

export const imageVerbMethods = {
  /** A new image from a container: its image's layers plus its changes as one more layer. */
  'images.commit': {
    params: lazySchema(() =>
      z.strictObject({
        container: ContainerSelector,
        reference: ImageReference.optional(),
        /** Dockerfile instructions applied to the config: `CMD ["sh"]`, `ENV A=b`, … (`--change`). */
        changes: z.array(z.string().min(1, 'must not be empty').max(65536)).max(256).optional(),
        author: z.string().max(1024).optional(),
        message: z.string().max(4096).optional(),
      }),
    ),
    result: ImageSummary,
  },
  /** Images as a docker-archive tar written to DEST on the machine. */
  'images.save': {
    params: lazySchema(() =>
      z.strictObject({
        images: z.array(ImageSelector).min(1, 'name at least one image').max(256),
        dest: z.string().min(1).max(4096).startsWith('/', 'must be an absolute path on the machine'),
      }),
    ),
    result: lazySchema(() => z.strictObject({ dest: z.string(), images: z.number().int() })),
  },
} as const;
