// Builds the extension and packs it into dist/netc-language-<version>.vsix (`npm run package:vscode`).
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { createVSIX } from "@vscode/vsce";
import { build } from "esbuild";
import { extensionDir, isMain, repoRoot } from "./paths.mjs";

/** Bundles src/extension.ts with vscode-languageclient into out/extension.js. */
async function bundleClient(dir = extensionDir()): Promise<string> {
  const outfile = join(dir, "out", "extension.js");
  await build({
    entryPoints: [join(dir, "src", "extension.ts")],
    outfile,
    bundle: true,
    // VS Code loads an extension's main file with `require` and provides `vscode` itself.
    format: "cjs",
    platform: "node",
    target: "node20",
    external: ["vscode"],
    // Bundled, the .vsix needs no node_modules: one file instead of a few hundred.
    minify: true,
    sourcemap: false,
    logLevel: "warning",
  });
  return outfile;
}

function defaultVsixPath(): string {
  const manifest: { name: string; version: string } = JSON.parse(
    readFileSync(join(extensionDir(), "package.json"), "utf8"),
  );
  return join(repoRoot(), "dist", `${manifest.name}-${manifest.version}.vsix`);
}

/** Bundles the client and writes the .vsix to `vsixPath`; returns that path. */
export async function packageVsix(vsixPath = defaultVsixPath()): Promise<string> {
  const dir = extensionDir();
  await bundleClient(dir);
  await mkdir(dirname(vsixPath), { recursive: true });
  await createVSIX({
    cwd: dir,
    packagePath: vsixPath,
    // The runtime dependency is inside out/extension.js, and the extension's manifest lists
    // none, so vsce need not run `npm list` on a folder without node_modules.
    dependencies: false,
    // The repository's license is MIT (the manifest's `license`) with no LICENSE file to copy.
    skipLicense: true,
    allowMissingRepository: true,
  });
  return vsixPath;
}

if (isMain(import.meta.url)) {
  packageVsix().then(
    (path) => console.log(`packaged ${relative(process.cwd(), path)}`),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    },
  );
}
