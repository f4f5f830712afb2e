import { messageOf } from '../shared/errors.js';
import { absoluteUrl, invalidConfig, type Feature } from './config.js';
import type { RefreshEngine } from './refresh-engine.js';
import { jsonResponse } from './responses.js';

/** Fields of a token response that never reach page script. */
const SECRET_FIELDS = new Set(['access_token', 'refresh_token']);

export interface CaptureOptions {
  /** More login URLs (absolute, or relative to the worker's origin) whose JSON answers are token responses. */
  endpoints?: readonly string[];
}

/** What the worker hands the capture when it starts. */
export interface CaptureContext {
  tokenEndpoint: string;
  origin: string;
  engine: Pick<RefreshEngine, 'login'>;
}

export interface LoginCapture {
  /** Absolute URLs whose successful answers are captured: the token endpoint first. */
  endpoints: readonly string[];
  /** Stores the login in `response` and answers the page without its tokens; `onLogin` runs once stored. */
  capture(response: Response, onLogin: () => void): Promise<Response>;
}

/** The value of the `capture` config option: made by `captureLogins()`. */
export type CaptureFeature = Feature<'capture', CaptureContext, LoginCapture>;

/**
 * Token-endpoint capture for `installTokenProxy({ capture: captureLogins() })`: a login the page performs
 * through `fetch` to the token endpoint (authorization code, password, ...) is stored by the worker and
 * answered to the page without `access_token` and `refresh_token`, so page script never holds a token.
 * A separate export so that a worker without it does not ship it.
 */
export function captureLogins(options: CaptureOptions = {}): CaptureFeature {
  if (typeof options !== 'object' || options === null) invalidConfig('captureLogins takes { endpoints?: string[] }');
  const extra = options.endpoints ?? [];
  if (!Array.isArray(extra)) invalidConfig('captureLogins takes { endpoints?: string[] }');
  const start = ({ tokenEndpoint, origin, engine }: CaptureContext): LoginCapture => ({
    endpoints: [tokenEndpoint, ...extra.map((url, i) => absoluteUrl(url, `capture endpoints[${i}]`, origin))],
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
        await engine.login(answer);
        onLogin();
      } catch (error) {
        // Never pass the raw answer on: it holds tokens the page must not see.
        return jsonResponse(502, { error: 'invalid_token_response', error_description: messageOf(error) });
      }
      const visible = Object.fromEntries(Object.entries(answer).filter(([field]) => !SECRET_FIELDS.has(field)));
      return jsonResponse(response.status, visible);
    },
  });
  return { feature: 'capture', start };
}
