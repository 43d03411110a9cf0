// Benchmark: from a change to its published diagnostics, for lenet5 and a 1,000-layer file.
//
// Two figures per file, both without the debounce (which only waits for typing to pause):
// - server: in process, the server's own path for one new version (check, convert to LSP
//   diagnostics, serialise the notification), timed around DocumentState.changed;
// - round trip: `netc lsp --stdio --debounce 0` in a child process, from writing didChange
//   to reading publishDiagnostics; it adds both sides' JSON-RPC and the pipes, an upper bound.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from "vscode-jsonrpc/node";
import {
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  HoverRequest,
  InitializeRequest,
  PublishDiagnosticsNotification,
} from "vscode-languageserver-protocol";
import { TextDocument } from "vscode-languageserver-textdocument";
import { lspDiagnostics } from "../editor/server/diagnostics.js";
import { DocumentState } from "../editor/server/document-state.js";
import { generatedStack } from "./generated-stack.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const RUNS = 200;

/** Each run a new version: the text with a different trailing comment, so nothing is cached. */
const version = (text: string, i: number) => `${text}# edit ${i}\n`;

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function inProcess(text: string): number {
  let doc = TextDocument.create("file:///bench.net", "net", 0, text);
  let sent = "";
  const state = new DocumentState(
    () => doc,
    (a) => {
      const params = { uri: a.uri, version: a.version, diagnostics: lspDiagnostics(a) };
      sent = JSON.stringify({ jsonrpc: "2.0", method: "textDocument/publishDiagnostics", params });
    },
    0,
    (what, error) => {
      throw new Error(`${what} failed`, { cause: error });
    },
  );
  const times: number[] = [];
  for (let i = 1; i <= RUNS + 20; i++) {
    doc = TextDocument.create(doc.uri, "net", i, version(text, i));
    const start = performance.now();
    state.changed(doc.uri);
    if (i > 20) times.push(performance.now() - start); // the first runs warm up the JIT
  }
  if (!sent.includes('"diagnostics":[]')) throw new Error("expected a clean check");
  return median(times);
}

async function roundTrip(texts: string[]): Promise<number[]> {
  const child = spawn(process.execPath, ["bin/netc.js", "lsp", "--stdio", "--debounce", "0"], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const client = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  let arrived: ((version: number) => void) | undefined;
  client.onNotification(PublishDiagnosticsNotification.type, (p) => arrived?.(p.version!));
  client.listen();
  await client.sendRequest(InitializeRequest.type, {
    processId: null,
    rootUri: null,
    capabilities: {},
  });
  const medians: number[] = [];
  for (const [n, text] of texts.entries()) {
    const uri = `file:///bench${n}.net`;
    const published = (v: number) =>
      new Promise<void>((resolve) => (arrived = (got) => got === v && resolve()));
    let wait = published(0);
    await client.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: "net", version: 0, text },
    });
    await wait;
    const times: number[] = [];
    for (let i = 1; i <= RUNS + 20; i++) {
      wait = published(i);
      const start = performance.now();
      await client.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: i },
        contentChanges: [{ text: version(text, i) }],
      });
      await wait;
      if (i > 20) times.push(performance.now() - start);
    }
    medians.push(median(times));
  }
  client.dispose();
  child.kill();
  return medians;
}

/**
 * An editor typing fast: one whole-text change every 10 ms (100 edits/s) for `seconds`, with the
 * server's default debounce, and a hover every 50 ms meanwhile. Responsive means hovers keep
 * answering promptly and the last version's diagnostics arrive soon after typing stops.
 */
async function sustained(text: string, seconds: number) {
  const child = spawn(process.execPath, ["bin/netc.js", "lsp", "--stdio"], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const client = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  let lastVersion = -1;
  let arrived: (() => void) | undefined;
  client.onNotification(PublishDiagnosticsNotification.type, (p) => {
    if (p.version === lastVersion) arrived?.();
  });
  client.listen();
  await client.sendRequest(InitializeRequest.type, {
    processId: null,
    rootUri: null,
    capabilities: {},
  });
  const uri = "file:///sustained.net";
  await client.sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri, languageId: "net", version: 0, text },
  });
  const line = text.split("\n").findIndex((l) => l.includes("Convolution"));
  const hovers: number[] = [];
  const end = performance.now() + seconds * 1000;
  let edits = 0;
  const typing = setInterval(() => {
    edits++;
    void client.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: edits },
      contentChanges: [{ text: version(text, edits) }],
    });
  }, 10);
  while (performance.now() < end) {
    const start = performance.now();
    await client.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: { line, character: 8 },
    });
    hovers.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  clearInterval(typing);
  lastVersion = edits;
  const stopped = performance.now();
  await new Promise<void>((resolve) => {
    arrived = resolve;
    // The last change may have been published before `lastVersion` was set: ask once more.
    void client.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: ++lastVersion },
      contentChanges: [{ text: version(text, lastVersion) }],
    });
  });
  const settled = performance.now() - stopped;
  client.dispose();
  child.kill();
  const sorted = [...hovers].sort((a, b) => a - b);
  return { edits, hovers: hovers.length, median: median(hovers), max: sorted.at(-1)!, settled };
}

const files = [
  { name: "lenet5.net", text: readFileSync(`${root}samples/lenet5.net`, "utf8"), target: 10 },
  { name: "generated 1,000 layers", text: generatedStack(1000), target: 100 },
];
const trips = await roundTrip(files.map((f) => f.text));
console.log(
  `netc lsp: change → publishDiagnostics, median of ${RUNS} runs, Node ${process.version}`,
);
for (const [i, f] of files.entries()) {
  const server = inProcess(f.text);
  const verdict = server < f.target ? "meets" : "MISSES";
  console.log(
    `${f.name.padEnd(22)}  server ${server.toFixed(3)} ms  round trip ${trips[i]!.toFixed(3)} ms  (target < ${f.target} ms: ${verdict})`,
  );
}

const largest = readdirSync(`${root}samples`)
  .map((name) => ({ name, text: readFileSync(`${root}samples/${name}`, "utf8") }))
  .sort((a, b) => b.text.length - a.text.length)[0]!;
const busy = await sustained(largest.text, 5);
console.log(
  `samples/${largest.name} under 100 edits/s for 5 s (${busy.edits} edits, default debounce): ${busy.hovers} hovers, median ${busy.median.toFixed(2)} ms, max ${busy.max.toFixed(2)} ms; the last version's diagnostics ${busy.settled.toFixed(0)} ms after typing stopped`,
);
