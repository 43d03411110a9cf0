// The command line on what issue 11 found broken: JSON that never came, files fmt changed
// into something else, raw errno codes, a module written without its declarations.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "netc-cli-robust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function netc(...args: string[]) {
  const run = spawnSync(process.execPath, [`${root}bin/netc.js`, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const tiny = join(dir, "tiny.net");
writeFileSync(tiny, "model Tiny {\n  input x: [2]\n  Linear(2)\n}\ncriterion MSE\n");
const posix = process.platform !== "win32";

describe("issue 11: the command line", () => {
  test("check --json on brackets nested 300 deep prints the diagnostic as JSON", () => {
    const path = join(dir, "deep.net");
    writeFileSync(
      path,
      `model M {\n  input x: [10]\n  Linear(${"(".repeat(300)}10${")".repeat(300)})\n}\n`,
    );
    const run = netc("check", "--json", path);
    expect(run).toMatchObject({ status: 1, stderr: "" });
    expect(JSON.parse(run.stdout)).toEqual([
      expect.objectContaining({ code: "nesting-too-deep", line: 3, column: 41 }),
    ]);
  });

  test("playground --port outside 1–65535 is a usage error (status 2), not a server error", () => {
    for (const port of ["0", "99999", "abc"]) {
      const run = netc("playground", "--port", port);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain("expected a port from 1 to 65535");
    }
  });

  test("--help lists every exit status", () => {
    const run = netc("--help");
    expect(run.status).toBe(0);
    for (const status of [0, 1, 2, 70])
      expect(run.stdout).toMatch(new RegExp(`^  ${status} +\\S`, "m"));
  });

  test.runIf(posix)(
    "fmt keeps a symbolic link, the permissions, a byte order mark and CRLF",
    () => {
      const messy = "model M {\r\n  input x: [10]\r\n     Linear(5)\r\n}\r\n";
      const tidy = "model M {\r\n  input x: [10]\r\n  Linear(5)\r\n}\r\n";
      const target = join(dir, "target.net");
      writeFileSync(target, "\ufeff" + messy, { mode: 0o600 });
      const link = join(dir, "link.net");
      symlinkSync("target.net", link);
      const script = join(dir, "script.net");
      writeFileSync(script, messy.replaceAll("\r\n", "\n"), { mode: 0o755 });
      expect(netc("fmt", link, script)).toMatchObject({ status: 0, stderr: "" });
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe("target.net");
      expect(readFileSync(target, "utf8")).toBe("\ufeff" + tidy);
      expect(statSync(target).mode & 0o777).toBe(0o600);
      expect(readFileSync(script, "utf8")).toBe(tidy.replaceAll("\r\n", "\n"));
      expect(statSync(script).mode & 0o777).toBe(0o755);
    },
  );

  test("compile --out-dir: a file, a path through a file, or nothing, in a sentence", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    expect(netc("compile", tiny, "--out-dir", file)).toEqual({
      status: 1,
      stdout: "",
      stderr: `netc: --out-dir ${file}: is a file, not a directory\n`,
    });
    expect(netc("compile", tiny, "--out-dir", join(file, "out")).stderr).toBe(
      `netc: --out-dir ${join(file, "out")}: cannot create the directory (a part of the path is a file, not a directory)\n`,
    );
    expect(netc("compile", tiny, "--out-dir", "")).toMatchObject({
      status: 2,
      stderr: "netc: --out-dir is empty: give a directory, such as out\n",
    });
  });

  test.runIf(process.platform === "linux")(
    "compile --out-dir under /proc fails at once (mkdir's recursive mode retried forever)",
    () => {
      expect(netc("compile", tiny, "--out-dir", "/proc/netc-nope/out")).toMatchObject({
        status: 1,
        stderr:
          "netc: --out-dir /proc/netc-nope/out: cannot create the directory (the file system does not allow it there)\n",
      });
    },
  );

  test("compile writes the module and its declarations, or neither", () => {
    const out = join(dir, "out");
    mkdirSync(join(out, "tiny.d.ts"), { recursive: true });
    expect(netc("compile", tiny, "--out-dir", out)).toMatchObject({
      status: 1,
      stderr: `netc: cannot write ${join(out, "tiny.d.ts")}: it is a directory\n`,
    });
    expect(existsSync(join(out, "tiny.js"))).toBe(false);
  });
});
