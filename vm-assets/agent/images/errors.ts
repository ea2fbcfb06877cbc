// The errors an image operation ends with. Each says what failed in words a user can act on, and
// carries a stable kind for the window: unauthorized, not_found, digest_mismatch, network, ...
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';

export function imageNotFound(selector: string, field = 'params.image'): OnggiError {
  return new OnggiError(ErrorCode.NotFound, 'not_found', `no such image: ${selector}`, field);
}

export function unauthorized(message: string): OnggiError {
  return new OnggiError(ErrorCode.Forbidden, 'unauthorized', message);
}

export function registryNotFound(message: string): OnggiError {
  return new OnggiError(ErrorCode.NotFound, 'not_found', message, 'params.ref');
}

export function digestMismatch(what: string, expected: string, got: string): OnggiError {
  return new OnggiError(ErrorCode.OperationFailed, 'digest_mismatch', `${what}: digest mismatch (expected ${expected}, got ${got})`);
}

export function networkError(message: string): OnggiError {
  return new OnggiError(ErrorCode.Unavailable, 'network', message);
}

export function unsupported(message: string, field?: string): OnggiError {
  return new OnggiError(ErrorCode.OperationFailed, 'unsupported', message, field);
}

export function badImage(message: string, field?: string): OnggiError {
  return new OnggiError(ErrorCode.OperationFailed, 'invalid_image', message, field);
}

export function conflict(message: string, field = 'params.image'): OnggiError {
  return new OnggiError(ErrorCode.Conflict, 'conflict', message, field);
}
