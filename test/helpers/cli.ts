// Runs `netc` as a user would: the built CLI in a child process, without colors.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function netc(...args: string[]): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env["FORCE_COLOR"];
  const result = spawnSync(process.execPath, ["bin/netc.js", ...args], {
    cwd: root,
    encoding: "utf8",
    env,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
