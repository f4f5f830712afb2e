import { messageOf } from '../../shared/errors.js';
import { absoluteUrl, invalidConfig, type CaptureFeature } from '../feature.js';
import { defineFeature, type CaptureContext, type LoginCapture } from '../feature-contracts.js';
import { jsonResponse, serverTime } from '../http.js';

/** Fields of a token response that never reach page script. */
const SECRET_FIELDS = new Set(['access_token', 'refresh_token']);

export interface CaptureOptions {
  /** More login URLs (absolute, or relative to the worker's origin) whose JSON answers are token responses. */
  endpoints?: readonly string[];
}

/**
 * Token-endpoint capture for `installTokenProxy({ capture: captureLogins() })`: a login the page performs
 * through `fetch` to the token endpoint (authorization code, password, ...) is stored by the worker and
 * answered to the page without `access_token` and `refresh_token`, so page script never holds a token.
 * A separate export so that a worker without it does not ship it.
 */
export function captureLogins(options: CaptureOptions = {}): CaptureFeature {
  if (typeof options !== 'object' || options === null) invalidConfig('capture', 'takes captureLogins({ endpoints?: string[] })');
  const extra = options.endpoints ?? [];
  if (!Array.isArray(extra)) invalidConfig('capture.endpoints', 'must be an array of URLs');
  const start = ({ tokenEndpoint, origin, engine }: CaptureContext): LoginCapture => ({
    endpoints: [...(tokenEndpoint === undefined ? [] : [tokenEndpoint]), ...extra.map((url, i) => absoluteUrl(url, `capture.endpoints[${i}]`, origin))],
    async capture(response, onLogin) {
      if (!response.ok) return response;
      let answer: unknown;
      try {
        answer = await response.clone().json();
      } catch {
        return response; // not JSON: not a token response
      }
      if (typeof answer !== 'object' || answer === null || !('access_token' in answer)) return response;
      try {
        await engine.login(answer, serverTime(response));
        onLogin();
      } catch (error) {
        // Never pass the raw answer on: it holds tokens the page must not see.
        return jsonResponse(502, { error: 'invalid_token_response', error_description: messageOf(error) });
      }
      const visible = Object.fromEntries(Object.entries(answer).filter(([field]) => !SECRET_FIELDS.has(field)));
      return jsonResponse(response.status, visible);
    },
  });
  return defineFeature('capture', start);
}
