import { allowInsecureRequests, customFetch, discoveryRequest, processDiscoveryResponse, type AuthorizationServer } from 'oauth4webapi';
import type { Database, DiscoveryRecord } from '../../storage/database.js';
import { providerFetch } from './provider-fetch.js';

export interface DiscoveryOptions {
  issuer: URL;
  db: Database;
  fetch: typeof fetch;
  now: () => number;
  /** How long a fetched document is used before it is fetched again. */
  cacheMs: number;
  /** Plain `http:` allowed (loopback issuers only: see oidc-sign-in.ts). */
  insecure: boolean;
}

/** The provider's metadata: from IndexedDB while young, else fetched (and checked) by oauth4webapi. */
export interface Discovery {
  metadata(): Promise<AuthorizationServer>;
  /** A request to the provider failed: the document may be stale, fetch it again on next use. */
  forget(): void;
}

export function createDiscovery({ issuer, db, fetch, now, cacheMs, insecure }: DiscoveryOptions): Discovery {
  let current: Promise<AuthorizationServer> | null = null;
  let stale = false;

  async function load(): Promise<AuthorizationServer> {
    const key = `discovery:${issuer.href}`;
    const cached = stale ? undefined : ((await (await db()).get('meta', key).catch(() => undefined)) as DiscoveryRecord | undefined);
    if (cached && now() - cached.fetchedAt < cacheMs) return cached.metadata as unknown as AuthorizationServer;
    const response = await discoveryRequest(issuer, { [allowInsecureRequests]: insecure, [customFetch]: providerFetch(fetch) });
    const metadata = await processDiscoveryResponse(issuer, response);
    stale = false;
    // Kept for the next worker instance; a storage failure costs only a fetch next time.
    const record: DiscoveryRecord = { issuer: issuer.href, metadata: { ...metadata }, fetchedAt: now() };
    await (await db()).put('meta', record, key).catch(() => undefined);
    return metadata;
  }

  return {
    metadata() {
      current ??= load().catch((error: unknown) => {
        current = null;
        throw error;
      });
      return current;
    },
    forget() {
      current = null;
      stale = true;
    },
  };
}
