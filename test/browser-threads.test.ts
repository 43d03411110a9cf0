// WASM threads in Chromium: a standalone compiled module in a Web Worker of a cross-origin-
// isolated page trains on 2 threads to the same bits as on 1; where threads cannot run (no
// isolation, the main thread) createModel says what to do.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { serveDirectory, type StaticServer } from "../cli/static-server.js";
import { hasChromium, launchChromium, watchedPage } from "./helpers/browser.js";
import { netc } from "./helpers/cli.js";

// Trains a few steps on fixed pseudo-random samples and sends back the losses and the weights.
const WORKER = `import { createModel } from "./lenet5.js";
onmessage = async ({ data: { threads } }) => {
  const model = await createModel({ batch: 16, seed: 3, threads });
  let s = 7;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const images = Float32Array.from({ length: 16 * 784 }, next);
  const labels = Int32Array.from({ length: 16 }, (_, i) => i % 10);
  const losses = [];
  for (let step = 0; step < 5; step++) losses.push(model.trainStep(images, labels));
  postMessage({ losses, weights: model.save() });
  model.dispose();
};
`;

describe.skipIf(!hasChromium)("WASM threads in Chromium", () => {
  let dir: string;
  let browser: Browser;
  let isolated: StaticServer;
  let plain: StaticServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "netc-browser-threads-"));
    const compiled = netc("compile", "samples/lenet5.net", "--standalone", "--out-dir", dir);
    expect(compiled.status, compiled.stderr).toBe(0);
    writeFileSync(
      join(dir, "index.html"),
      '<!doctype html><title>threads</title><link rel="icon" href="data:,">',
    );
    writeFileSync(join(dir, "worker.js"), WORKER);
    [browser, isolated, plain] = await Promise.all([
      launchChromium(),
      serveDirectory(dir),
      serveDirectory(dir, { isolated: false }),
    ]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([browser?.close(), isolated?.close(), plain?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("in a Web Worker, 2 threads train to the same bits as 1", async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(isolated.url);
    expect(await page.evaluate("crossOriginIsolated")).toBe(true);
    // Strings, not functions: the page has the DOM's types, which this project does not load.
    const runs = await page.evaluate(`(async () => {
      const run = (threads) =>
        new Promise((resolve, reject) => {
          const worker = new Worker("worker.js", { type: "module" });
          worker.onmessage = ({ data }) =>
            resolve({ losses: data.losses, weights: Array.from(data.weights) });
          worker.onerror = (e) => reject(new Error(e.message));
          worker.postMessage({ threads });
        });
      return [await run(1), await run(2)];
    })()`);
    const [one, two] = runs as [
      { losses: number[]; weights: number[] },
      { losses: number[]; weights: number[] },
    ];
    expect(one.losses.every(Number.isFinite)).toBe(true);
    expect(one.losses[4]!).toBeLessThan(one.losses[0]!);
    expect(two.losses).toEqual(one.losses);
    expect(two.weights.length).toBeGreaterThan(61_706 * 4);
    expect(two.weights).toEqual(one.weights);
    expect(errors).toEqual([]);
  }, 60_000);

  test("threads on the main thread, or without isolation, are a NetcError saying what to do", async () => {
    const attempt = async (url: string) => {
      const { page } = await watchedPage(browser);
      await page.goto(url);
      return page.evaluate(`import("./lenet5.js")
        .then((m) => m.createModel({ threads: 2 }))
        .then(() => "created", (e) => e.name + ": " + e.message)`);
    };
    expect(await attempt(isolated.url)).toMatch(
      /^NetcError: threads: 2 cannot run on a browser's main thread, .*: create the model in a Web Worker, or with threads: 1$/,
    );
    expect(await attempt(plain.url)).toMatch(
      /^NetcError: threads: 2 needs SharedArrayBuffer, which browsers give only to cross-origin-isolated pages: serve the page with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp/,
    );
  });
});
