// `netc playground`: serves the browser playground (built into dist/playground/site by `npm run
// build`) on 127.0.0.1 with the cross-origin-isolation headers its threads need, or writes it
// as static files for any host (`--build DIR`), where a service worker stands in for the headers.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetcError } from "../runtime/errors.js";
import { writeFilesAtomic } from "../runtime/node/write-atomic.js";
import { printable } from "./printable.js";
import { serveDirectory } from "./static-server.js";

export interface PlaygroundOptions {
  port?: number;
  build?: string;
}

/** dist/playground/site, beside this file's dist/cli. */
const siteDir = fileURLToPath(new URL("../playground/site/", import.meta.url));
/** The Fashion-MNIST sample the page trains on, served as its data/ (the package has it once). */
const dataDir = fileURLToPath(new URL("../../data/fashion-mnist-sample/", import.meta.url));

/** The page's files: where each is read from, and its path in the site. */
function siteFiles(): { from: string; path: string }[] {
  if (!existsSync(join(siteDir, "index.html"))) {
    throw new NetcError(
      `the playground is not built (${printable(siteDir)} has no index.html): run npm run build`,
    );
  }
  const under = (dir: string, keep: (p: string) => boolean) =>
    readdirSync(dir, { recursive: true, encoding: "utf8" }).filter(
      (p) => keep(p) && statSync(join(dir, p)).isFile(),
    );
  return [
    ...under(siteDir, () => true).map((p) => ({ from: join(siteDir, p), path: p })),
    ...under(dataDir, (p) => p.endsWith(".gz")).map((p) => ({
      from: join(dataDir, p),
      path: join("data", p),
    })),
  ];
}

export async function runPlayground(options: PlaygroundOptions): Promise<void> {
  const files = siteFiles();
  if (options.build !== undefined) {
    const dir = options.build;
    if (existsSync(dir) && !statSync(dir).isDirectory())
      throw new NetcError(`--build ${printable(dir)}: is not a directory`);
    for (const f of files) mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFilesAtomic(files.map((f) => ({ path: join(dir, f.path), bytes: readFileSync(f.from) })));
    process.stdout.write(
      `wrote the playground to ${printable(dir)} (${files.length} files): serve it from any static host; without the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, its service worker sets them (HTTPS or localhost), else it trains on one thread\n`,
    );
    return;
  }
  const server = await serveDirectory(siteDir, {
    port: options.port ?? 8080,
    mounts: { "data/": dataDir },
  }).catch((error: NodeJS.ErrnoException) => {
    throw new NetcError(
      `cannot serve on 127.0.0.1:${options.port ?? 8080}: ${error.code ?? error.message}${error.code === "EADDRINUSE" ? " (try --port N)" : ""}`,
    );
  });
  process.stdout.write(`netc playground: ${server.url} (Ctrl-C stops it)\n`);
}
