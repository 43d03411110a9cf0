// A user's TypeScript project: tsc (strict) on one file beside the declarations netc wrote.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const tsc = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));

/** Type-checks `consumer.ts`, written in `path` with a tsconfig.json, as tsc -p would. */
export function typeCheck(
  path: string,
  consumer: string,
): { status: number | null; stdout: string; stderr: string } {
  writeFileSync(join(path, "consumer.ts"), consumer);
  const compilerOptions = {
    strict: true,
    noEmit: true,
    target: "es2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    lib: ["es2022"],
    types: [],
  };
  writeFileSync(
    join(path, "tsconfig.json"),
    JSON.stringify({ compilerOptions, files: ["consumer.ts"] }),
  );
  const result = spawnSync(process.execPath, [tsc, "-p", path], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
