// Docker's error shape (`{"message": "..."}`) and the status codes its clients act on: a 404 makes
// `docker run` pull, a 409 is "name in use", a 304 "already started". Agent errors (OnggiError) are
// mapped by their JSON-RPC code, so the RPC and the Docker API refuse the same things alike.
import { OnggiError, errorMessage } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';

export class DockerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DockerError';
  }
}

export const notFound = (message: string) => new DockerError(404, message);
export const badRequest = (message: string) => new DockerError(400, message);
/** What Onggi does not do: named, never pretended. */
export const unsupported = (what: string) => new DockerError(501, `${what} is not supported by Onggi`);
export const unsupportedOption = (option: string, why = '') =>
  new DockerError(400, `${option} is not supported by Onggi${why ? ` (${why})` : ''}`);

const STATUS_BY_CODE: Record<number, number> = {
  [ErrorCode.ParseError]: 400,
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.InvalidParams]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.Unavailable]: 500,
  [ErrorCode.MethodNotFound]: 501,
};

/** Any error as Docker's status and body. */
export function toDockerError(error: unknown): DockerError {
  if (error instanceof DockerError) return error;
  if (error instanceof OnggiError) {
    if (error.kind === 'not_found') return new DockerError(404, error.message);
    return new DockerError(STATUS_BY_CODE[error.code] ?? 500, error.message);
  }
  return new DockerError(500, errorMessage(error));
}

/**
 * Rethrows the agent's not_found as Docker's 404 in Docker's words (clients match on the status,
 * people read the words); with `field`, only when that input was the one not found.
 */
export function whenNotFound(message: string, field?: string) {
  return (error: unknown): never => {
    if (error instanceof OnggiError && error.kind === 'not_found' && (field === undefined || error.field === field))
      throw notFound(message);
    throw error;
  };
}
