/// <reference lib="webworker" />
/*
 * The proxy sees each fetch event before any other listener of the worker, whatever the order they were
 * added in (workbox adds its listener at the first registerRoute or precacheAndRoute, maybe before
 * installTokenProxy is called). A capturing listener should run first at the target (DOM spec): Firefox
 * and WebKit do that, Chromium does not for the worker's global scope (measured: Chromium 156). So, in
 * addition, every fetch listener added once this module has been evaluated — in a one-file worker, every
 * listener, since imports are evaluated before the file's own code — is wrapped: it first lets the proxy
 * see the event, and one the proxy answered goes no further.
 */

declare const self: ServiceWorkerGlobalScope;

/** True when it answered the event (called respondWith). */
type Handler = (event: FetchEvent) => boolean;

let proxy: Handler | null = null;
const answered = new WeakMap<Event, boolean>();
/** The proxy's decision on `event`, made once however many listeners ask. */
function answer(event: FetchEvent): boolean {
  let done = answered.get(event);
  if (done === undefined) answered.set(event, (done = proxy ? proxy(event) : false));
  return done;
}

const isWorker = typeof ServiceWorkerGlobalScope !== 'undefined' && self instanceof ServiceWorkerGlobalScope;
const add = isWorker ? self.addEventListener : null;
if (isWorker) {
  const remove = self.removeEventListener;
  const gated = new WeakMap<EventListenerOrEventListenerObject, EventListener>();
  const gate = (listener: EventListenerOrEventListenerObject): EventListener => {
    let wrapped = gated.get(listener);
    if (!wrapped) {
      wrapped = function (this: unknown, event: Event) {
        if (answer(event as FetchEvent)) return;
        if (typeof listener === 'function') listener.call(this, event);
        else listener.handleEvent(event);
      };
      gated.set(listener, wrapped);
    }
    return wrapped;
  };
  self.addEventListener = function (this: ServiceWorkerGlobalScope, type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions) {
    add!.call(this, type, (type === 'fetch' && listener ? gate(listener) : listener) as EventListener, options);
  } as typeof self.addEventListener;
  self.removeEventListener = function (this: ServiceWorkerGlobalScope, type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions) {
    remove.call(this, type, ((type === 'fetch' && listener && gated.get(listener)) || listener) as EventListener, options);
  } as typeof self.removeEventListener;
}

/** Installs the proxy's fetch handler ahead of every other one (see above). */
export function gateFetch(handler: Handler): void {
  proxy = handler;
  add!.call(self, 'fetch', (event) => void answer(event as FetchEvent), { capture: true });
}
