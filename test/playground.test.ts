// The playground in Chromium, as built by `npm run build` and served by `netc playground`: the page loads cleanly, a shape error typed shows at its line and its quick fix repairs it,
// the graph draws each layer, training on 2 threads lowers the loss, and the first filters and a
// feature map are drawn (judged by their pixels); the ONNX download is what ONNX Runtime runs as
// netc does. Each pane's screenshot is kept in test-artifacts/playground/.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { serveDirectory } from "../cli/static-server.js";
import { ecgClassNames } from "../runtime/data/synthetic-ecg.js";
import { hasChromium, launchChromium, watchedPage } from "./helpers/browser.js";
import { netc, root } from "./helpers/cli.js";
import { npy, npz } from "./helpers/data-files.js";
import { encode } from "fast-png";
import { zipSync } from "fflate";
import { difference, netcForward, ortForward, shapes, TOLERANCE } from "./helpers/onnx.js";
import { decodeModel } from "../compiler/export/onnx-proto.js";
import { decodeSafetensors } from "../runtime/safetensors.js";

const artifacts = join(root, "test-artifacts", "playground");

/** Evaluates `expression` in the page (a string: vitest would rewrite a function's imports). */
const read = <T>(page: Page, expression: string) => page.evaluate(expression) as Promise<T>;

/** Waits until `expression` is true in the page; generous: CI runs the whole suite at once. */
const until = (page: Page, expression: string, timeout = 20_000) =>
  page.waitForFunction(expression, undefined, { timeout, polling: 50 });

/** A port no one listens on now. */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  probe.close();
  return port;
}

/** `netc playground --port N` in a child process, once it has printed its URL. */
async function playground(): Promise<{ child: ChildProcess; url: string; line: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["bin/netc.js", "playground", "--port", String(port)], {
    cwd: root,
  });
  const [data] = (await once(child.stdout!, "data")) as [Buffer];
  return { child, url: `http://127.0.0.1:${port}/`, line: data.toString() };
}

describe.skipIf(!hasChromium)("the playground in Chromium", () => {
  let browser: Browser;
  let server: { child: ChildProcess; url: string };
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    [browser, server] = await Promise.all([launchChromium(), playground()]);
    ({ page, errors } = await watchedPage(browser));
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.goto(`${server.url}?threads=2`);
    await until(page, "netcPlayground.info !== undefined");
  }, 30_000);

  afterAll(async () => {
    server?.child.kill();
    await browser?.close();
  });

  test("loads LeNet-5 without a console error, isolated, on 2 threads", async () => {
    expect(await read(page, "crossOriginIsolated")).toBe(true);
    expect(await read(page, "netcPlayground.info.threads")).toBe(2);
    expect(await read(page, "netcPlayground.info.data")).toBe(
      "Fashion-MNIST sample (4000 train, 1000 test)",
    );
    // The language server's shapes at the ends of the lines.
    // One per layer line of the model (the input's line has its shape written already).
    await until(page, "document.querySelectorAll('.cm-shape-hint').length === 9");
    expect(await page.locator(".cm-shape-hint").first().textContent()).toBe("[6, 28, 28]");
    // Hover: the layer's signature, documentation, shape and parameters.
    await page.locator(".cm-line", { hasText: "fc1: Linear(120)" }).getByText("Linear").hover();
    await expect
      .poll(() => page.locator(".cm-tooltip-hover").textContent(), { timeout: 10_000 })
      .toContain("fc1 → [120] · 48,120 parameters");
    expect(errors).toEqual([]);
    await page.locator("#editor-pane").screenshot({ path: join(artifacts, "editor.png") });
    await page.mouse.move(0, 0);
  });

  test("a shape error typed shows at its line; its quick fix repairs it", async () => {
    // The caret after `View(40`: the user replaces the last 0 by 1.
    await page.evaluate(`(() => {
      const view = netcPlayground.view;
      const at = view.state.doc.toString().indexOf("View(400)") + 7;
      view.dispatch({ selection: { anchor: at, head: at + 1 } });
      view.focus();
    })()`);
    await page.keyboard.type("1");
    await until(page, "netcPlayground.diagnostics().length > 0");
    const diagnostics = await read<{ line: number; message: string; fixes: string[] }[]>(
      page,
      "netcPlayground.diagnostics()",
    );
    expect(diagnostics).toEqual([
      {
        line: 9,
        message: "View(401) cannot reshape [16, 5, 5] (400 elements) into [401]",
        fixes: ["Reshape to all 400 elements: View(400)"],
      },
    ]);
    // What the user sees: the underline on line 9, and the fix in its tooltip.
    const underline = page.locator(".cm-lintRange-error");
    expect(await underline.textContent()).toBe("401");
    await underline.hover();
    const fix = page.locator(".cm-tooltip-lint .cm-diagnosticAction");
    await fix.waitFor();
    await page.locator("#editor-pane").screenshot({ path: join(artifacts, "diagnostic.png") });
    await fix.click();
    await until(page, "netcPlayground.diagnostics().length === 0");
    expect(await read(page, "netcPlayground.view.state.doc.line(9).text")).toMatch(
      /^ {2}View\(400\) /,
    );
  });

  test("the graph has one node per layer; clicking one selects its source", async () => {
    expect(await read(page, "netcPlayground.layers")).toBe(13);
    expect(await page.locator("svg.graph .node.layer").count()).toBe(13);
    expect(await page.locator("svg.graph .node.input").count()).toBe(1);
    await page.locator("#graph-pane").screenshot({ path: join(artifacts, "graph.png") });
    // Clicking a layer selects its source.
    await page.locator("svg.graph .node.layer", { hasText: "fc2: Linear" }).click();
    expect(
      await read(
        page,
        "netcPlayground.view.state.sliceDoc(netcPlayground.view.state.selection.main.from, netcPlayground.view.state.selection.main.to)",
      ),
    ).toBe("fc2: Linear(84)");
  });

  test("30 steps on 2 threads lower the loss; the filters and feature maps are drawn", async () => {
    // Adam learns within 30 steps, where the sample's SGD takes a few hundred to start.
    await page.evaluate(`(() => {
      const view = netcPlayground.view;
      const text = view.state.doc.toString();
      const from = text.indexOf("SGD(lr=0.01, momentum=0.9)");
      view.dispatch({ changes: { from, to: from + 26, insert: "Adam(lr=0.003)" } });
    })()`);
    await until(page, "netcPlayground.info.optimizer.startsWith('Adam')");
    await page.click("#start");
    await until(page, "netcPlayground.losses.length >= 30");
    await page.click("#pause");
    await until(page, "!netcPlayground.running");
    const losses = await read<number[]>(page, "netcPlayground.losses");
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(losses.slice(0, 30).every(Number.isFinite)).toBe(true);
    expect(mean(losses.slice(25, 30))).toBeLessThan(mean(losses.slice(0, 5)) - 0.3);

    await until(page, "document.querySelectorAll('canvas.feature-map').length === 6");
    // Pixel statistics: the grey levels' variance and how many distinct levels there are.
    const statistics = (selector: string) =>
      read<{ variance: number; levels: number }>(
        page,
        `(() => {
          const canvas = document.querySelector(${JSON.stringify(selector)});
          const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
          const grey = [];
          for (let i = 0; i < data.length; i += 4) grey.push((data[i] + data[i + 1] + data[i + 2]) / 3);
          const mean = grey.reduce((a, b) => a + b, 0) / grey.length;
          const variance = grey.reduce((a, b) => a + (b - mean) ** 2, 0) / grey.length;
          return { variance, levels: new Set(grey).size };
        })()`,
      );
    expect(await page.locator("canvas.filter").count()).toBe(6);
    const filter = await statistics("canvas.filter");
    expect(filter.levels).toBeGreaterThan(10); // of 25 pixels
    expect(filter.variance).toBeGreaterThan(1000);
    const map = await statistics("canvas.feature-map");
    expect(map.levels).toBeGreaterThan(50);
    expect(map.variance).toBeGreaterThan(500);
    await page.locator("#train-pane").screenshot({ path: join(artifacts, "train.png") });
    await page.locator("#inside-pane").screenshot({ path: join(artifacts, "inside.png") });
    await page.screenshot({ path: join(artifacts, "playground.png") });
    expect(await read(page, "netcPlayground.errors")).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);

  test("the ONNX download is the model with the page's weights, as ONNX Runtime runs it", async () => {
    const download = async (id: string) => {
      const [file] = await Promise.all([page.waitForEvent("download"), page.click(`#${id}`)]);
      return { name: file.suggestedFilename(), bytes: readFileSync((await file.path())!) };
    };
    const onnx = await download("download-onnx");
    const weights = await download("download-weights");
    expect(onnx.name).toBe("lenet5.onnx");
    const saved = decodeSafetensors(weights.bytes, weights.name);
    const initializers = decodeModel(onnx.bytes, onnx.name).graph.initializers;
    for (const [name, { data }] of saved)
      expect(initializers.find((t) => t.name === name)?.values).toEqual({ type: "float", data });
    // The editor's model from those weights: netc's forward pass is ONNX Runtime's of the file.
    const run = netcForward(
      await read(page, "netcPlayground.view.state.doc.toString()"),
      0,
      weights.bytes,
    );
    const ort = await ortForward(onnx.bytes, run.inputs, shapes(run.model, "inputs"));
    const [output] = run.model.outputs;
    const d = difference(ort.get(output!.name)!, run.outputs.get(output!.name)!);
    expect(d.rel).toBeLessThanOrEqual(TOLERANCE);
  });

  test("an .npz dropped on the page is the data the model trains on", async () => {
    // 128 samples of LeNet-5's input and 10 classes: a tenth is held out as the test set.
    const images = Array.from({ length: 128 * 784 }, (_, i) => ((i * 7919) % 256) / 255);
    const labels = Array.from({ length: 128 }, (_, i) => i % 10);
    const bytes = npz({
      x_train: npy("<f4", [128, 1, 28, 28], images),
      y_train: npy("|u1", [128], labels),
    });
    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(Buffer.from(bytes).toString("base64"))}), (c) => c.charCodeAt(0));
      const files = new DataTransfer();
      files.items.add(new File([bytes], "mine.npz"));
      document.dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true }));
    })()`);
    await until(page, "netcPlayground.info.data.includes('mine.npz')");
    expect(await read(page, "netcPlayground.info.data")).toBe(
      "arrays in mine.npz: 128 samples, 13 held out as the test set",
    );
    await page.click("#start");
    await until(page, "netcPlayground.epochs.length >= 2");
    await page.click("#stop");
    expect(await read(page, "netcPlayground.errors")).toEqual([]);
  });

  test("a dropped CSV (label field), a zip of class folders of PNGs and .npy files train as with --data", async () => {
    /**
     * Replaces the editor's source: with the data dropped before (none, or another model's), its
     * compile ends in an error; once that is shown, forget it.
     */
    const source = async (text: string) => {
      await page.evaluate(`(() => {
        const view = netcPlayground.view;
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: ${JSON.stringify(text)} } });
      })()`);
      await until(page, "netcPlayground.errors.length > 0");
      await page.evaluate("netcPlayground.errors.length = 0");
    };
    /** Drops files (several at once: the files of one folder). */
    const drop = (files: Record<string, Uint8Array>) =>
      page.evaluate(`(() => {
        const files = new DataTransfer();
        for (const [name, base64] of ${JSON.stringify(Object.entries(files).map(([n, b]) => [n, Buffer.from(b).toString("base64")]))}) {
          const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
          files.items.add(new File([bytes], name));
        }
        document.dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true }));
      })()`);
    const train = async (steps: number) => {
      const before = await read<number>(page, "netcPlayground.losses.length");
      await page.click("#start");
      await until(page, `netcPlayground.losses.length >= ${before + steps}`);
      await page.click("#stop");
      await until(page, "!netcPlayground.running");
      const losses = await read<number[]>(page, "netcPlayground.losses");
      expect(losses.slice(before).every(Number.isFinite)).toBe(true);
    };
    const train3 = (model: string, criterion: string) =>
      `${model}criterion ${criterion}\ntrain {\n  optimizer = Adam(lr=0.01)\n  batch = 8\n  epochs = 3\n}\n`;

    // A CSV: its last column is the label unless the label field says otherwise (as --label).
    const rows = Array.from({ length: 100 }, (_, i) => {
      const [a, b, c] = [((i * 37) % 100) / 50 - 1, ((i * 61) % 100) / 50 - 1, (i % 7) / 7];
      return `${a},${b},${c},${a + b > 0 ? "yes" : "no"}`;
    });
    await source(
      train3(
        "model Churn {\n  input x: [3]\n  Linear(8) -> ReLU\n  Linear(2)\n  LogSoftMax\n}\n",
        "NLL",
      ),
    );
    await drop({ "churn.csv": new TextEncoder().encode(["a,b,c,churned", ...rows].join("\n")) });
    await until(page, "netcPlayground.info.name === 'Churn'");
    expect(await read(page, "netcPlayground.info.data")).toBe(
      "churn.csv: 100 rows, 3 feature columns, 10 held out as the test set",
    );
    expect(await read(page, "netcPlayground.info.classNames")).toEqual(["no", "yes"]);
    await train(5);
    // A wrong label: the CLI's message, not a stack trace.
    await page.fill("#labels", "churn");
    await page.locator("#labels").dispatchEvent("change");
    await until(page, "netcPlayground.errors.length > 0");
    expect(await read(page, "netcPlayground.errors")).toEqual([
      "churn.csv has no column churn; its columns are: a, b, c, churned",
    ]);
    await page.evaluate("netcPlayground.errors.length = 0");
    await page.fill("#labels", "");
    await page.locator("#labels").dispatchEvent("change");

    // A zip of a folder of class folders of 8x8 PNGs: red ones and blue ones.
    const png = (red: boolean, i: number) => {
      const data = new Uint8Array(8 * 8 * 3).map((_, p) =>
        p % 3 === (red ? 0 : 2) ? 150 + ((p * 13 + i * 29) % 100) : (p * 7 + i) % 60,
      );
      return encode({ width: 8, height: 8, data, channels: 3, depth: 8 });
    };
    const images: Record<string, Uint8Array> = {};
    for (let i = 0; i < 10; i++) {
      images[`colours/red/${i}.png`] = png(true, i);
      images[`colours/blue/${i}.png`] = png(false, i);
    }
    await source(
      train3(
        "model Colours {\n  input image: [3, 8, 8]\n  SpatialConvolution(4, kernel=3, pad=1) -> ReLU\n  Flatten\n  Linear(2)\n  LogSoftMax\n}\n",
        "NLL",
      ),
    );
    await drop({ "colours.zip": zipSync(images) });
    await until(page, "netcPlayground.info.name === 'Colours'");
    expect(await read(page, "netcPlayground.info.data")).toBe(
      "image folders in colours.zip/colours: 2 classes, 20 images, 2 held out as the test set",
    );
    expect(await read(page, "netcPlayground.info.classNames")).toEqual(["blue", "red"]);
    await train(4);
    expect(await read(page, "netcPlayground.errors")).toEqual([]);
    await page.locator("#train-pane").screenshot({ path: join(artifacts, "own-data.png") });
    // Two .npy files dropped together are one folder's.
    const pixels = Array.from({ length: 20 * 192 }, (_, i) => (i % 17) / 17);
    await drop({
      "x.npy": npy("<f4", [20, 3, 8, 8], pixels),
      "y.npy": npy(
        "|u1",
        [20],
        Array.from({ length: 20 }, (_, i) => i % 2),
      ),
    });
    await until(page, "netcPlayground.info.data.includes('dropped files')");
    expect(await read(page, "netcPlayground.info.data")).toBe(
      "arrays in dropped files: 20 samples, 2 held out as the test set",
    );
    expect(await read(page, "netcPlayground.errors")).toEqual([]);
  });

  test("a block's use folds into one node", async () => {
    await page.selectOption("#sample", "tiny-unet.net");
    await until(page, "document.querySelectorAll('svg.graph .node.layer').length === 17");
    expect(await page.locator("svg.graph .cluster").count()).toBe(3);
    await page.locator("svg.graph .cluster").first().click();
    // The first DoubleConv's 4 layers are one node now.
    expect(await page.locator("svg.graph .node.layer").count()).toBe(13);
    expect(await page.locator("svg.graph .node.block").textContent()).toContain(
      "DoubleConv (4 layers)",
    );
  });

  test("the generated sets are netc train's: the ECG set with its classes, void segmentation edges", async () => {
    await page.selectOption("#sample", "ecg-cnn.net");
    await until(page, "netcPlayground.info.name === 'ECGNet'");
    expect(await read(page, "netcPlayground.info.data")).toBe(
      "generated ECG set (1,024 train, 256 test): single-lead 2.56 s windows at 100 Hz, normal, PVC, AF, bundle branch block, bradycardia, tachycardia",
    );
    expect(await read(page, "netcPlayground.info.classNames")).toEqual([...ecgClassNames]);
    await page.click("#start");
    await until(page, "netcPlayground.losses.length >= 3");
    await page.click("#stop");
    // The criterion ignores 255: as with netc train, the shapes' edges are void pixels.
    await page.selectOption("#sample", "dilated-segmentation.net");
    await until(page, "netcPlayground.info.name === 'DilatedSegNet'");
    expect(await read(page, "netcPlayground.info.data")).toBe(
      "generated segmentation set (1,024 train, 256 test): bright shapes on noise, a class per pixel, edges void (255)",
    );
    expect(await read(page, "netcPlayground.errors")).toEqual([]);
  });

  test("netc playground --build: a static copy isolates itself by its service worker, else trains on one thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "netc-playground-build-"));
    const plain = await (async () => {
      const built = netc("playground", "--build", dir);
      expect(built.status, built.stderr).toBe(0);
      expect(built.stdout).toMatch(/^wrote the playground to .* \(\d+ files\)/);
      return serveDirectory(dir, { isolated: false });
    })();
    try {
      const context = await browser.newContext();
      const copy = await context.newPage();
      await copy.goto(plain.url);
      // The first load registers the service worker and reloads, isolated.
      await until(copy, "crossOriginIsolated && document.getElementById('threads').length > 0");
      expect(await read(copy, "document.getElementById('threads').disabled")).toBe(false);
      await context.close();
      // Without a service worker either, the page trains on one thread.
      const blocked = await browser.newContext({ serviceWorkers: "block" });
      const single = await blocked.newPage();
      await single.goto(plain.url);
      await until(single, "window.netcPlayground?.info !== undefined");
      expect(await read(single, "crossOriginIsolated")).toBe(false);
      expect(await read(single, "netcPlayground.info.threads")).toBe(1);
      await single.click("#start");
      await until(single, "netcPlayground.losses.length >= 3");
      expect(await read(single, "netcPlayground.errors")).toEqual([]);
      await blocked.close();
    } finally {
      await plain.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("netc playground", () => {
  test("serves the built page on 127.0.0.1 with the isolation headers and prints its URL", async () => {
    const { child, url, line } = await playground();
    try {
      expect(line).toBe(`netc playground: ${url} (Ctrl-C stops it)\n`);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(response.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
      expect(await response.text()).toContain('<script type="module" src="main.js"></script>');
      // The Fashion-MNIST sample is the page's data/; nothing outside the two, whatever the path.
      const labels = await fetch(`${url}data/t10k-labels-idx1-ubyte.gz`);
      expect(labels.status).toBe(200);
      expect((await labels.arrayBuffer()).byteLength).toBe(480);
      expect((await fetch(`${url}..%2f..%2fpackage.json`)).status).toBe(404);
      expect((await fetch(`${url}data/..%2f..%2fpackage.json`)).status).toBe(404);
    } finally {
      child.kill();
    }
  });

  test("--port and --build together are a usage error", () => {
    const run = netc("playground", "--port", "9000", "--build", "site");
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("netc: --port and --build do not go together\n");
  });
});
