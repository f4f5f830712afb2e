import type { DpopFeature } from '../../feature.js';
import { defineFeature } from '../../feature-contracts.js';
import { createDpopProver, generateDpopKeys } from './prover.js';

/**
 * DPoP (RFC 9449) for `installTokenProxy({ dpop: dpopProofs() })`: tokens bound to a P-256 key pair
 * whose private half cannot leave the browser. The worker adds a proof to the page's token requests
 * (so the login must go through `fetch` to the token endpoint: `captureLogins()` fits), to its refreshes
 * and to every API call, and follows `use_dpop_nonce`. Without it, a `token_type: DPoP` login is refused.
 * A separate export so that a worker without DPoP does not ship it.
 */
export function dpopProofs(): DpopFeature {
  // The key pair is kept as the session is (IndexedDB, or memory with memoryStorage()), made on first use.
  return defineFeature('dpop', ({ keys, now, newId }) => createDpopProver(keys('dpop-key', generateDpopKeys), now, newId));
}
