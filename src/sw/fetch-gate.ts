/// <reference lib="webworker" />
/*
 * The proxy sees each fetch event before any other listener of the worker, whatever the order the code
 * adds them in (workbox adds its listener at the first registerRoute or precacheAndRoute, maybe before
 * installTokenProxy is called). A capturing listener should run first at the target (DOM spec): Firefox
 * and WebKit do that, Chromium does not for the worker's global scope (measured: Chromium 156), where
 * listeners run in the order they were added. So the proxy's listener is added when this module is
 * evaluated — before the code that imports it runs — and hands each event to the handler that
 * installTokenProxy sets; until then (or without it) it does nothing.
 */

declare const self: ServiceWorkerGlobalScope;

let handler: ((event: FetchEvent) => void) | undefined;

// (Not in Node, where the unit tests import the worker's modules.)
if (typeof ServiceWorkerGlobalScope !== 'undefined') self.addEventListener('fetch', (event) => handler?.(event), { capture: true });

/** Sets the proxy's fetch handler; it runs ahead of every fetch listener the worker's own code adds. */
export function gateFetch(proxyHandler: (event: FetchEvent) => void): void {
  handler = proxyHandler;
}
