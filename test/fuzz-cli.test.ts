// Fuzzing the command line: mutated and generated files through `netc check --json`, `fmt`,
// `shapes` and `compile`, many files per process (a process takes a second). Every exit
// status must be a documented one, and no error a stack trace or an internal error.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, describe, expect } from "vitest";
import { fuzzing, fuzzTest } from "./fuzz/budget.js";
import { mutate, mutations } from "./fuzz/mutate.js";
import { programs } from "./fuzz/programs.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const samples = readdirSync(`${root}samples`)
  .filter((f) => f.endsWith(".net"))
  .map((f) => readFileSync(`${root}samples/${f}`, "utf8"));
const dir = mkdtempSync(join(tmpdir(), "netc-fuzz-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = fc.oneof(
  fc.tuple(fc.constantFrom(...samples), mutations).map(([text, m]) => mutate(text, m)),
  programs.map((p) => p.text),
);

/** A batch of files in a fresh directory: one process checks them all. */
const batch = fc.array(source, { minLength: 1, maxLength: fuzzing ? 20 : 6 });

let batches = 0;
function writeBatch(texts: string[]): string[] {
  const at = join(dir, `batch${++batches}`);
  return texts.map((text, i) => {
    const path = `${at}-${i}.net`;
    writeFileSync(path, text);
    return path;
  });
}

function netc(...args: string[]) {
  const run = spawnSync(process.execPath, [`${root}bin/netc.js`, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, signal: run.signal };
}

/** What every run must satisfy: a documented status, no stack trace, no internal error. */
function expectClean(run: ReturnType<typeof netc>, statuses: readonly number[]): void {
  expect(run.signal).toBeNull();
  expect(statuses).toContain(run.status);
  expect(run.stderr).not.toMatch(/^\s+at |internal error|RangeError|TypeError/m);
}

describe("fuzz: command line", () => {
  fuzzTest(
    "check --json, shapes and fmt --check: documented statuses, JSON, no stack trace",
    { share: 0.1, runs: 1, timeout: 60_000 },
    fc.property(batch, (texts) => {
      const files = writeBatch(texts);
      const check = netc("check", "--json", ...files);
      expectClean(check, [0, 1]);
      expect(Array.isArray(JSON.parse(check.stdout))).toBe(true);
      expectClean(netc("shapes", ...files), [0, 1]);
      expectClean(netc("fmt", "--check", ...files), [0, 1]);
    }),
  );

  fuzzTest(
    "fmt rewrites in place, and what it wrote is formatted",
    { share: 0.05, runs: 1, timeout: 60_000 },
    fc.property(batch, (texts) => {
      const files = writeBatch(texts);
      expectClean(netc("fmt", ...files), [0, 1]);
      // Files with syntax errors are left alone (status 1); the others are now formatted.
      const again = netc("fmt", "--check", ...files);
      expectClean(again, [0, 1]);
      for (const line of again.stdout.split("\n").filter((l) => l.endsWith(".net"))) {
        expect(files).not.toContain(line);
      }
    }),
  );

  fuzzTest(
    "compile: a module or a sentence saying why",
    { share: 0.05, runs: 1, timeout: 60_000 },
    fc.property(source, (text) => {
      const [file] = writeBatch([text]);
      const run = netc("compile", file!, "--backend", "ts", "--out-dir", join(dir, "out"));
      expectClean(run, [0, 1]);
    }),
  );
});
