// The playground page: the editor, the graph, training and "look inside", wired together. The
// compiler runs here for the graph; the language server and training run in Web Workers.
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { forEachDiagnostic } from "@codemirror/lint";
import type { EditorView } from "@codemirror/view";
import uPlot from "uplot";
import { check } from "@netc/compiler/check.js";
import samples from "netc:samples";
import { createEditor } from "./editor.js";
import { GraphPane } from "./graph.js";
import { drawInside } from "./inside.js";
import type { EpochReport, FromTrainer, ModelInfo, ToTrainer } from "./protocol.js";

/** What the browser tests read: the page's state as data, and the editor. */
interface PlaygroundState {
  view?: EditorView;
  /** The editor's diagnostics: 1-based line, message, the titles of their quick fixes. */
  diagnostics?: () => { line: number; message: string; fixes: string[] }[];
  info: ModelInfo | undefined;
  losses: number[];
  epochs: EpochReport[];
  samplesPerSecond: number;
  running: boolean;
  layers: number;
  insideUpdates: number;
  errors: string[];
}
const state: PlaygroundState = {
  info: undefined,
  losses: [],
  epochs: [],
  samplesPerSecond: 0,
  running: false,
  layers: 0,
  insideUpdates: 0,
  errors: [],
};
(window as unknown as { netcPlayground: PlaygroundState }).netcPlayground = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/**
 * Threads need cross-origin isolation. `netc playground` serves the headers; a static copy on a
 * host that cannot set them gets them from a service worker, installed once, then a reload.
 */
async function isolate(): Promise<boolean> {
  if (crossOriginIsolated) return true;
  if (!("serviceWorker" in navigator) || !isSecureContext) return false;
  if (sessionStorage.getItem("netc-coi-reloaded")) return false;
  sessionStorage.setItem("netc-coi-reloaded", "1");
  try {
    await navigator.serviceWorker.register(new URL("coi-serviceworker.js", location.href));
    // A browser that refuses service workers may never get one ready: one thread then.
    const ready = await Promise.race([
      navigator.serviceWorker.ready.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 3000)),
    ]);
    if (!ready) return false;
  } catch (error) {
    console.warn("netc playground: no service worker, so one thread:", error);
    return false;
  }
  location.reload();
  return new Promise(() => {}); // the reload ends this page
}

const isolated = await isolate();
const params = new URLSearchParams(location.search);
const sampleNames = Object.keys(samples);
const initial = params.get("sample") ?? "lenet5.net";

// Threads: 1 without isolation; by default 2 (the machine's cores, at most 4) with it.
const threadSelect = $<HTMLSelectElement>("threads");
const cores = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
for (const n of [1, 2, 4]) threadSelect.add(new Option(String(n), String(n)));
threadSelect.value = String(Number(params.get("threads")) || (isolated ? Math.min(cores, 4) : 1));
if (!isolated) {
  threadSelect.value = "1";
  threadSelect.disabled = true;
  threadSelect.title = "one thread: the page is not cross-origin isolated (see the README)";
}

const trainer = new Worker(new URL("train-worker.js", import.meta.url), { type: "module" });
const send = (message: ToTrainer) => trainer.postMessage(message);
let source = samples[initial] ?? samples[sampleNames[0]!]!;
let compileTimer: ReturnType<typeof setTimeout> | undefined;
let stale = false;

function compileSoon(): void {
  clearTimeout(compileTimer);
  compileTimer = setTimeout(() => {
    if (state.running) {
      stale = true;
      status("the model changed: Stop to train the new one");
      return;
    }
    stale = false;
    send({ type: "compile", source, threads: Number(threadSelect.value) });
  }, 500);
}

const status = (text: string) => ($("status").textContent = text);

// Editor and graph.
const graph = new GraphPane($("graph"), (from, to) => editor.select(from, to));
let graphTimer: ReturnType<typeof setTimeout> | undefined;
function drawGraph(): void {
  const model = check(source).models[0];
  state.layers = model ? model.nodes.filter((n) => n.op !== "Input").length : 0;
  graph.show(model);
}
const editor = createEditor($("editor"), source, (text) => {
  source = text;
  clearTimeout(graphTimer);
  graphTimer = setTimeout(drawGraph, 250);
  compileSoon();
});
drawGraph();
state.view = editor.view;
state.diagnostics = () => {
  const found: { line: number; message: string; fixes: string[] }[] = [];
  const { state: editorState } = editor.view;
  forEachDiagnostic(editorState, (d, from) =>
    found.push({
      line: editorState.doc.lineAt(from).number,
      message: d.message,
      fixes: (d.actions ?? []).map((a) => a.name),
    }),
  );
  return found;
};

const sampleSelect = $<HTMLSelectElement>("sample");
for (const name of sampleNames) sampleSelect.add(new Option(name, name));
sampleSelect.value = initial;
sampleSelect.addEventListener("change", () => {
  if (state.running) send({ type: "stop" });
  // A sample trains on the data its task has, not on files dropped for another model.
  dropped = [];
  send({ type: "files", files: [], labels: labels() });
  editor.setText(samples[sampleSelect.value]!);
});
threadSelect.addEventListener("change", () => {
  if (state.running) send({ type: "stop" });
  compileSoon();
});

// Training: the plots, the confusion matrix and the controls.
const lossData: [number[], number[]] = [[], []];
const accuracyData: [number[], (number | null)[], (number | null)[]] = [[], [], []];
const plotOptions = (title: string, series: uPlot.Series[]): uPlot.Options => ({
  title,
  width: 300,
  height: 160,
  legend: { live: false },
  scales: { x: { time: false } },
  axes: [{ label: "step" }, {}],
  series: [{}, ...series],
});
const lossPlot = new uPlot(
  plotOptions("loss", [{ label: "train (step)", stroke: "#2a6fdb", width: 1 }]),
  lossData,
  $("loss-plot"),
);
const accuracyPlot = new uPlot(
  plotOptions("accuracy", [
    { label: "train (running)", stroke: "#2a6fdb" },
    { label: "test (epoch)", stroke: "#d9480f", spanGaps: true, points: { show: true } },
  ]),
  accuracyData,
  $("accuracy-plot"),
);

function resetPlots(): void {
  state.losses = [];
  state.epochs = [];
  for (const a of [...lossData, ...accuracyData]) a.length = 0;
  lossPlot.setData(lossData);
  accuracyPlot.setData(accuracyData);
  $("confusion").replaceChildren();
}

function drawConfusion(report: EpochReport): void {
  const table = document.createElement("table");
  const names = state.info?.classNames;
  const matrix = report.confusion!;
  const most = Math.max(1, ...matrix.flat());
  const head = table.insertRow();
  head.insertCell().textContent = "true \\ predicted";
  matrix.forEach((_, c) => (head.insertCell().textContent = String(c)));
  matrix.forEach((row, t) => {
    const tr = table.insertRow();
    const label = tr.insertCell();
    label.textContent = names?.[t] ?? String(t);
    for (const n of row) {
      const cell = tr.insertCell();
      cell.textContent = String(n);
      cell.style.background = `rgba(42, 111, 219, ${(n / most).toFixed(3)})`;
    }
  });
  const caption = table.createCaption();
  caption.textContent = `test set after epoch ${report.epoch}: rows are the true classes`;
  $("confusion").replaceChildren(table);
}

const button = (id: string, message: ToTrainer) =>
  $(id).addEventListener("click", () => send(message));
button("start", { type: "start" });
button("pause", { type: "pause" });
button("stop", { type: "stop" });
button("download-weights", { type: "download", what: "weights" });
button("download-module", { type: "download", what: "module" });
button("download-onnx", { type: "download", what: "onnx" });

// Look inside.
const imageInput = $<HTMLInputElement>("test-image");
const mapsSelect = $<HTMLSelectElement>("maps-node");
const inspect = () =>
  send({
    type: "inspect",
    image: Number(imageInput.value) || 0,
    node: mapsSelect.value === "" ? undefined : Number(mapsSelect.value),
  });
imageInput.addEventListener("change", inspect);
mapsSelect.addEventListener("change", inspect);

// What is dropped on the page trains the model instead of the built-in data, read as
// `netc train --data` reads files: folders are walked here (the worker sees paths and bytes).
type Dropped = { name: string; bytes: Uint8Array };
let dropped: Dropped[] = [];
const labelsInput = $<HTMLInputElement>("labels");
const labels = () =>
  labelsInput.value
    .split(",")
    .map((l) => l.trim())
    .filter((l) => l !== "");
labelsInput.addEventListener("change", () => {
  if (dropped.length > 0) send({ type: "files", files: dropped, labels: labels() });
});

/** The files under a dropped entry, by their path from it (`folder/sub/name`). */
async function filesOf(entry: FileSystemEntry): Promise<Dropped[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    return [
      { name: entry.fullPath.replace(/^\//, ""), bytes: new Uint8Array(await file.arrayBuffer()) },
    ];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries gives a directory's entries in batches (100 in Chromium) until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) break;
    children.push(...batch);
  }
  return (await Promise.all(children.map(filesOf))).flat();
}

document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", async (e) => {
  e.preventDefault();
  const items = [...(e.dataTransfer?.items ?? [])].filter((item) => item.kind === "file");
  // Entries must be taken before the first await: the DataTransfer is emptied after the event.
  const entries = items.map((item) => item.webkitGetAsEntry());
  const files = [...(e.dataTransfer?.files ?? [])];
  try {
    dropped = entries.every((entry) => entry !== null)
      ? (await Promise.all(entries.map(filesOf))).flat()
      : await Promise.all(
          files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
        );
  } catch (error) {
    status(`cannot read what was dropped: ${(error as Error).message}`);
    return;
  }
  if (dropped.length > 0) {
    status(`reading ${entries.map((entry, i) => entry?.name ?? files[i]?.name).join(", ")}…`);
    send({ type: "files", files: dropped, labels: labels() });
  }
});

trainer.onmessage = ({ data }: MessageEvent<FromTrainer>) => {
  switch (data.type) {
    case "compiled": {
      state.info = data.info;
      resetPlots();
      const i = data.info;
      $("model-info").textContent =
        `${i.name}: ${i.task} on ${i.data}; ${i.optimizer}, batch ${i.batch}, ${i.epochs} epochs, ${i.threads} thread${i.threads > 1 ? "s" : ""}`;
      imageInput.max = String(i.testCount - 1);
      const previous = mapsSelect.value;
      mapsSelect.replaceChildren(...i.convolutions.map((c) => new Option(c.name, String(c.node))));
      if (i.convolutions.some((c) => String(c.node) === previous)) mapsSelect.value = previous;
      status("ready: Start trains the model");
      break;
    }
    case "error":
      state.errors.push(data.message);
      status(data.message);
      break;
    case "status":
      status(data.text);
      break;
    case "state":
      state.running = data.running && !data.paused;
      status(data.running ? (data.paused ? "paused" : "training…") : "stopped");
      if (!state.running && stale) compileSoon();
      break;
    case "steps": {
      data.losses.forEach((loss, k) => {
        state.losses.push(loss);
        lossData[0].push(data.first + k);
        lossData[1].push(loss);
      });
      state.samplesPerSecond = data.samplesPerSecond;
      const last = data.first + data.losses.length - 1;
      accuracyData[0].push(last);
      accuracyData[1].push(data.accuracy ?? null);
      accuracyData[2].push(null);
      lossPlot.setData(lossData);
      accuracyPlot.setData(accuracyData);
      $("speed").textContent =
        `${Math.round(data.samplesPerSecond).toLocaleString("en-US")} samples/s`;
      break;
    }
    case "epoch": {
      state.epochs.push(data.report);
      accuracyData[2][accuracyData[2].length - 1] = data.report.testAccuracy ?? null;
      accuracyPlot.setData(accuracyData);
      const accuracy = data.report.testAccuracy;
      status(
        `epoch ${data.report.epoch}: test loss ${data.report.testLoss.toFixed(4)}${accuracy === undefined ? "" : `, accuracy ${(accuracy * 100).toFixed(2)}%`}`,
      );
      if (data.report.confusion) drawConfusion(data.report);
      break;
    }
    case "inside": {
      state.insideUpdates++;
      const name = mapsSelect.selectedOptions[0]?.text ?? "the first convolution";
      drawInside($("inside"), data, name);
      break;
    }
    case "file": {
      const url = URL.createObjectURL(new Blob([data.bytes as Uint8Array<ArrayBuffer>]));
      const a = document.createElement("a");
      a.href = url;
      a.download = data.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      break;
    }
  }
};

send({ type: "compile", source, threads: Number(threadSelect.value) });
