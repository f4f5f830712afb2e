import type { ErrorCode, ErrorInfo } from './protocol.js';

/** The one error type the library throws; `code` is stable, `message` is for people. */
export class TokenProxyError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'TokenProxyError';
    this.code = code;
    this.field = field;
  }

  toInfo(at?: number): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message };
    if (this.field !== undefined) info.field = this.field;
    if (at !== undefined) info.at = at;
    return info;
  }
}

/** What a caught value says, for a message. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
