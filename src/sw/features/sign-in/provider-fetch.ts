import type { CustomFetchOptions } from 'oauth4webapi';

/** The worker's fetch, in the shape oauth4webapi's `customFetch` calls it (a GET has no body at all). */
export const providerFetch =
  (fetchFn: typeof fetch) =>
  (url: string, { body, headers, method, redirect, signal }: CustomFetchOptions<string, URLSearchParams | undefined>): Promise<Response> =>
    fetchFn(url, { headers, method, redirect, ...(body === undefined ? {} : { body }), ...(signal === undefined ? {} : { signal }) });
