import type { ApiScope } from './config.js';

/** Which of `routes` (absolute URLs) `url` is, ignoring a query string. */
export function routeMatcher(routes: readonly string[]): (url: string) => string | undefined {
  return (url) => routes.find((route) => url === route || url.startsWith(route + '?'));
}

/**
 * Builds the allow-list test. Matching is on the serialised URL string: `base` is origin + prefix, and the
 * character after it must end a path segment. A URL with credentials, another port or a look-alike host
 * never starts with a configured origin followed by such a character.
 */
export function createApiMatcher(scopes: readonly ApiScope[], excluded: readonly string[] = []): (url: string) => boolean {
  const bases = scopes.map((scope) => scope.origin + scope.pathPrefix);
  const excludedRoute = routeMatcher(excluded);
  return (url) => {
    for (const base of bases) {
      if (!url.startsWith(base)) continue;
      const next = url.charCodeAt(base.length);
      // end, '/', '?', '#'; the exclusions are checked only for a URL that matched (the hot path is every request)
      if (Number.isNaN(next) || next === 47 || next === 63 || next === 35) return excludedRoute(url) === undefined;
    }
    return false;
  };
}
