// A static file server on 127.0.0.1 for `netc playground` and the browser tests: a directory's
// files with the cross-origin-isolation headers that WASM threads need (docs/compiled-module.md).
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
};

/** The headers that make a page cross-origin isolated: SharedArrayBuffer, hence threads. */
export const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 (`port` 0: any free one); `/` is index.html. `mounts` serves other
 * directories under URL prefixes (`{ "data/": dir }`). `isolated` adds the cross-origin-isolation
 * headers (the browser tests also serve without them).
 */
export function serveDirectory(
  dir: string,
  options: { port?: number; isolated?: boolean; mounts?: Record<string, string> } = {},
): Promise<StaticServer> {
  const mounts = Object.entries(options.mounts ?? {}).map(([prefix, d]) => ({
    prefix: `/${prefix}`,
    root: normalize(d + sep),
  }));
  const server: Server = createServer((request, response) => {
    let path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    const mount = mounts.find((m) => path.startsWith(m.prefix));
    if (mount) path = path.slice(mount.prefix.length);
    const root = mount?.root ?? normalize(dir + sep);
    const file = normalize(join(root, path.endsWith("/") ? path + "index.html" : path));
    const headers = {
      "Cache-Control": "no-store",
      ...(options.isolated === false ? {} : ISOLATION_HEADERS),
    };
    // Nothing outside the directory, whatever the path says.
    if (!file.startsWith(root) || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, headers).end();
      return;
    }
    readFile(file).then(
      (body) => {
        const type = TYPES[extname(file)] ?? "application/octet-stream";
        response.writeHead(200, { ...headers, "Content-Type": type }).end(body);
      },
      () => response.writeHead(404, headers).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
