// The README's main command, `npm start`, run exactly as package.json writes it (with the weights
// written to a temporary directory): a network that really learns, ≥ 80% test accuracy on the
// embedded sample, and an evaluation of the saved weights that agrees.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "netc-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("npm start trains LeNet-5 to at least 80% test accuracy and evaluates the saved weights", () => {
  const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    scripts: { start: string };
  };
  const commands = scripts.start
    .replaceAll("dist/lenet5.safetensors", join(dir, "lenet5.safetensors"))
    .split(" && ");
  expect(commands.map((c) => c.split(" ").slice(0, 3).join(" "))).toEqual([
    "node bin/netc.js train",
    "node bin/netc.js eval",
  ]);
  const [train, evaluation] = commands.map((command) => {
    const [node, ...args] = command.split(" ");
    expect(node).toBe("node");
    const result = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  }) as [string, string];
  const accuracies = [...train.matchAll(/test loss [\d.]+ accuracy ([\d.]+)%/g)].map((m) =>
    Number(m[1]),
  );
  expect(accuracies.length).toBeGreaterThanOrEqual(10);
  const last = accuracies.at(-1)!;
  expect(last).toBeGreaterThanOrEqual(80);
  expect(evaluation).toContain(`accuracy ${last.toFixed(2)}%`);
});
