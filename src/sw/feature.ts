import { TokenProxyError } from '../shared/errors.js';

/**
 * An optional feature as the user holds it: made by its function (`offlineOutbox()`, ...) and handed to
 * `installTokenProxy`, which starts it with the context it needs (see feature-contracts.ts). Only the name
 * is public: how a feature starts is the worker's business.
 */
export interface Feature<Name extends string> {
  readonly feature: Name;
}

/** The value of the `outbox` option: made by `offlineOutbox()`. */
export type OutboxFeature = Feature<'outbox'>;
/** The value of the `capture` option: made by `captureLogins()`. */
export type CaptureFeature = Feature<'capture'>;
/** The value of the `dpop` option: made by `dpopProofs()`. */
export type DpopFeature = Feature<'dpop'>;
/** The value of the `storage` option: made by `memoryStorage()`. */
export type StorageFeature = Feature<'storage'>;
/** The value of the `strategies` option: made by `apiStrategies()`. */
export type StrategiesFeature = Feature<'strategies'>;
/** The value of the `signIn` option: made by `oidcSignIn()`. */
export type SignInFeature = Feature<'signIn'>;

/** Throws `TokenProxyError('invalid-config')` naming the option. */
export function invalidConfig(option: string, message: string): never {
  throw new TokenProxyError('invalid-config', `sw-token-proxy config: ${option} ${message}`, { field: option });
}

/** A finite number ≥ `min`, or `fallback` when left out. */
export function positive(value: number | undefined, option: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && value >= min && value < Infinity)) invalidConfig(option, `must be a number ≥ ${min}`);
  return value;
}

/** `value` resolved against `base` (the worker's origin). */
export function absoluteUrl(value: unknown, option: string, base: string): string {
  try {
    if (typeof value === 'string' && value !== '') return new URL(value, base).href;
  } catch {
    // refused below
  }
  return invalidConfig(option, `must be a URL, got ${String(value)}`);
}
