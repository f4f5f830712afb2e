import type { PageFunction } from './types.js';

/**
 * The page-side source of one evaluate: the function's text applied to its JSON arguments, its result
 * (or thrown error) JSON-encoded into a string under `ok` / `thrown`. Every driver then carries a plain
 * string, so results mean the same in every engine (undefined → null, no driver-specific decoding), and
 * no result is an object with an `error` key, which classic WebDriver would read as a driver error.
 */
export function pageExpression<A extends unknown[], R>(fn: PageFunction<A, R>, args: A): string {
  return `(async () => {
    try {
      const value = await (${fn.toString()})(...${JSON.stringify(args)});
      return JSON.stringify({ ok: value === undefined ? null : value });
    } catch (e) {
      return JSON.stringify({ thrown: String((e && e.stack) || e) });
    }
  })()`;
}

export class PageError extends Error {
  override name = 'PageError';
}

export function decodeResult<R>(encoded: unknown, what: string): R {
  if (typeof encoded !== 'string') throw new PageError(`${what}: the page returned ${typeof encoded}, not its encoded result`);
  const decoded = JSON.parse(encoded) as { ok?: R; thrown?: string };
  if (decoded.thrown !== undefined) throw new PageError(`${what} threw in the page: ${decoded.thrown}`);
  return decoded.ok as R;
}

/** A short name for error messages: the function's first line. */
export const describeFunction = (fn: { toString(): string }) => fn.toString().replace(/\s+/g, ' ').slice(0, 80);
