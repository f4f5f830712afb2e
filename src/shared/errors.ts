import type { ErrorCode } from './protocol.js';

export interface TokenProxyErrorOptions {
  /** For `invalid-token-response` and `invalid-config`: the field or option that was wrong. */
  field?: string;
  /** What went wrong underneath (the browser's own error, ...), kept as `error.cause`. */
  cause?: unknown;
}

/** The one error type the library throws; `code` is stable, `message` is for people. */
export class TokenProxyError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, { field, cause }: TokenProxyErrorOptions = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TokenProxyError';
    this.code = code;
    this.field = field;
  }
}

/** What a caught value says, for a message. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message || error.name : String(error));
