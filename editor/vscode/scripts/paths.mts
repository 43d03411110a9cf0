// Where the extension and the repository are, whether run from source (tests) or from dist/.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function readName(manifest: string): string | undefined {
  const parsed: { name?: string } = JSON.parse(readFileSync(manifest, "utf8"));
  return parsed.name;
}

/** The repository root: the first folder above this file whose package.json is netc's. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    // editor/vscode has a package.json of its own, so the name tells the two apart.
    if (existsSync(manifest) && readName(manifest) === "netc") {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("vscode: netc's package.json not found above the script");
    dir = parent;
  }
}

export function extensionDir(): string {
  return join(repoRoot(), "editor", "vscode");
}

/** Whether this module is the one `node` was started with, not one a test imported. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];
}
