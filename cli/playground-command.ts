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

function siteFiles(): string[] {
  if (!existsSync(join(siteDir, "index.html"))) {
    throw new NetcError(
      `the playground is not built (${printable(siteDir)} has no index.html): run npm run build`,
    );
  }
  return readdirSync(siteDir, { recursive: true, encoding: "utf8" }).filter((p) =>
    statSync(join(siteDir, p)).isFile(),
  );
}

export async function runPlayground(options: PlaygroundOptions): Promise<void> {
  const files = siteFiles();
  if (options.build !== undefined) {
    const dir = options.build;
    if (existsSync(dir) && !statSync(dir).isDirectory())
      throw new NetcError(`--build ${printable(dir)}: is not a directory`);
    for (const p of files) mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFilesAtomic(
      files.map((p) => ({ path: join(dir, p), bytes: readFileSync(join(siteDir, p)) })),
    );
    process.stdout.write(
      `wrote the playground to ${printable(dir)} (${files.length} files): serve it from any static host; without the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, its service worker sets them (HTTPS or localhost), else it trains on one thread\n`,
    );
    return;
  }
  const server = await serveDirectory(siteDir, { port: options.port ?? 8080 }).catch(
    (error: NodeJS.ErrnoException) => {
      throw new NetcError(
        `cannot serve on 127.0.0.1:${options.port ?? 8080}: ${error.code ?? error.message}${error.code === "EADDRINUSE" ? " (try --port N)" : ""}`,
      );
    },
  );
  process.stdout.write(`netc playground: ${server.url} (Ctrl-C stops it)\n`);
}
