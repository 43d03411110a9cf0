// Builds the playground into static files (`npm run build` runs it after tsc): the page and its
// two workers bundled by esbuild from playground/src and the compiled dist/, the samples
// embedded. `netc playground` serves the result with data/fashion-mnist-sample as its data/.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build, type Plugin } from "esbuild";
import { isMain, repoRoot } from "../../editor/vscode/scripts/paths.mjs";

/** Where the built site lies, beside the rest of dist/. */
export const siteDir = (root = repoRoot()) => join(root, "dist", "playground", "site");

/** The files under `dir` whose relative path passes `keep`, by that path, in name order. */
function filesUnder(dir: string, keep: (path: string) => boolean): Record<string, string> {
  const paths = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter(keep).sort();
  return Object.fromEntries(paths.map((p) => [p, readFileSync(join(dir, p), "utf8")]));
}

/**
 * `import samples from "netc:samples"`: every samples/*.net by file name; `"netc:runtime"`:
 * the built runtime's files (for the standalone module the page offers), Node's part left out.
 */
function embedPlugin(root: string): Plugin {
  const modules: Record<string, () => Record<string, string>> = {
    samples: () => filesUnder(join(root, "samples"), (p) => p.endsWith(".net")),
    runtime: () =>
      filesUnder(
        join(root, "dist", "runtime"),
        (p) => !p.startsWith("node") && (p.endsWith(".js") || p === "api-types.d.ts"),
      ),
  };
  return {
    name: "netc-embed",
    setup(b) {
      b.onResolve({ filter: /^netc:/ }, (args) => ({
        path: args.path.slice(5),
        namespace: "netc",
      }));
      b.onLoad({ filter: /.*/, namespace: "netc" }, (args) => ({
        contents: JSON.stringify(modules[args.path]!()),
        loader: "json",
      }));
    },
  };
}

export async function buildPlayground(root = repoRoot()): Promise<string> {
  const src = join(root, "playground", "src");
  const out = siteDir(root);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: ["main", "lsp-worker", "train-worker", "coi-serviceworker"].map((name) =>
      join(src, `${name}.ts`),
    ),
    outdir: out,
    bundle: true,
    format: "esm",
    // The compiler and runtime, which the page and both workers use, load once as shared chunks.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: false,
    // The playground imports netc through `@netc/...`: the compiled JS in dist/.
    alias: { "@netc": join(root, "dist") },
    // Node's built-ins in code paths the browser never takes (the runtime checks for them).
    external: ["node:*"],
    plugins: [embedPlugin(root)],
    logLevel: "warning",
  });
  copyFileSync(join(src, "index.html"), join(out, "index.html"));
  return out;
}

if (isMain(import.meta.url)) {
  buildPlayground().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
