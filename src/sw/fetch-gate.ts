/// <reference lib="webworker" />
/*
 * The proxy sees each fetch event before any other listener of the worker, whatever the order the code
 * adds them in (workbox adds its listener at the first registerRoute or precacheAndRoute, maybe before
 * installTokenProxy is called). A capturing listener should run first at the target (DOM spec): Firefox
 * and WebKit do that, Chromium does not for the worker's global scope (measured: Chromium 156). So, from
 * the moment this module is evaluated until installTokenProxy runs, fetch listeners are held back; the
 * proxy's is added first, then theirs, in their order. (In a one-file worker that is every listener:
 * imports are evaluated before the file's own code.) Without installTokenProxy they are added at the end
 * of the script's evaluation all the same.
 */

declare const self: ServiceWorkerGlobalScope;

type Listener = Parameters<ServiceWorkerGlobalScope['addEventListener']>;

// (Not in Node, where the unit tests import the worker's modules.)
const scope = typeof ServiceWorkerGlobalScope === 'undefined' ? undefined : self;
const { addEventListener: add, removeEventListener: remove } = scope ?? {};
let held: Listener[] | null = null;

if (scope) {
  held = [];
  scope.addEventListener = function (this: ServiceWorkerGlobalScope, ...args: Listener) {
    if (held && args[0] === 'fetch') held.push(args);
    else add!.apply(this, args);
  } as typeof self.addEventListener;
  scope.removeEventListener = function (this: ServiceWorkerGlobalScope, ...args: Parameters<ServiceWorkerGlobalScope['removeEventListener']>) {
    if (held && args[0] === 'fetch') held = held.filter(([, listener]) => listener !== args[1]);
    else remove!.apply(this, args);
  } as typeof self.removeEventListener;
  queueMicrotask(() => gateFetch(null));
}

/** Adds the proxy's fetch handler (once), then every fetch listener held back until now, in their order. */
export function gateFetch(handler: ((event: FetchEvent) => void) | null): void {
  if (!held) return;
  const waiting = held;
  held = null;
  scope!.addEventListener = add!;
  scope!.removeEventListener = remove!;
  if (handler) add!.call(self, 'fetch', handler as EventListener, { capture: true });
  for (const args of waiting) add!.apply(self, args);
}
