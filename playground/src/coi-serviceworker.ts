// Cross-origin isolation where the host cannot send the headers (`netc playground --build` for
// GitHub Pages and the like): this service worker adds COOP and COEP to every same-origin
// response, which is what `netc playground` serves them with. The page registers it once and
// reloads; it then runs with threads.
const scope = self as unknown as {
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: string, listener: (event: never) => void): void;
};

scope.addEventListener("install", () => void scope.skipWaiting());
scope.addEventListener("activate", (event: { waitUntil(p: Promise<unknown>): void }) =>
  event.waitUntil(scope.clients.claim()),
);
scope.addEventListener(
  "fetch",
  (event: { request: Request; respondWith(r: Promise<Response>): void }) => {
    const { request } = event;
    if (new URL(request.url).origin !== location.origin) return;
    event.respondWith(
      fetch(request).then((response) => {
        const headers = new Headers(response.headers);
        headers.set("Cross-Origin-Opener-Policy", "same-origin");
        headers.set("Cross-Origin-Embedder-Policy", "require-corp");
        return new Response(response.body, {
          status: response.status,
          statusText: response.statusText,
          headers,
        });
      }),
    );
  },
);
