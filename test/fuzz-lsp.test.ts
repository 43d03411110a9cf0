// Fuzzing the language server as an editor drives it: `netc lsp --stdio` in a child process
// gets random incremental edits (positions past the end, reversed ranges, huge inserts, deep
// nesting, lone CRs) and requests at random positions. Every request must be answered, no
// internal error logged, and the last version's diagnostics must lie inside the document.
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from "vscode-jsonrpc/node";
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  InlayHintRequest,
  LogMessageNotification,
  MessageType,
  PublishDiagnosticsNotification,
  SignatureHelpRequest,
  type Position,
  type PublishDiagnosticsParams,
  type Range,
} from "vscode-languageserver-protocol";
import { TextDocument } from "vscode-languageserver-textdocument";
import { textDocuments } from "../editor/server/text-documents.js";
import { fuzzTest } from "./fuzz/budget.js";
import { fragments } from "./fuzz/mutate.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const samples = readdirSync(`${root}samples`)
  .filter((f) => f.endsWith(".net"))
  .map((f) => readFileSync(`${root}samples/${f}`, "utf8"));

let child: ChildProcess;
let client: MessageConnection;
const errorsLogged: string[] = [];
const published = new Map<string, PublishDiagnosticsParams>();
const waiters: (() => void)[] = [];

beforeAll(async () => {
  // Debounce 0: every version is checked, the most work the server can be given.
  child = spawn(process.execPath, ["bin/netc.js", "lsp", "--stdio", "--debounce", "0"], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  client = createMessageConnection(
    new StreamMessageReader(child.stdout!),
    new StreamMessageWriter(child.stdin!),
  );
  client.onNotification(LogMessageNotification.type, (p) => {
    if (p.type === MessageType.Error) errorsLogged.push(p.message);
  });
  client.onNotification(PublishDiagnosticsNotification.type, (p) => {
    published.set(`${p.uri}@${p.version}`, p);
    for (const wake of waiters.splice(0)) wake();
  });
  client.listen();
  await client.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
  });
  await client.sendNotification(InitializedNotification.type, {});
});

afterAll(() => {
  client?.dispose();
  child?.kill();
});

async function diagnosticsOf(uri: string, version: number): Promise<PublishDiagnosticsParams> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const hit = published.get(`${uri}@${version}`);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no diagnostics for ${uri} version ${version}`);
    await new Promise<void>((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 100);
    });
  }
}

// Positions may lie past the last line or character, or be negative: editors get it wrong.
const position: fc.Arbitrary<Position> = fc.record({
  line: fc.oneof(fc.nat(60), fc.integer({ min: -2, max: 100_000 })),
  character: fc.oneof(fc.nat(80), fc.integer({ min: -2, max: 100_000 })),
});

const insertText = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(fc.constantFrom(...fragments), { maxLength: 6 }).map((a) => a.join("")),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom("(", "[", "-", "Linear(", "ReLU\n", ",\r")
      .chain((s) => fc.integer({ min: 40, max: 3000 }).map((n) => s.repeat(n))),
  },
  { weight: 1, arbitrary: fc.constantFrom(...samples) },
);

type Action =
  { kind: "edit"; range: Range; text: string } | { kind: "request"; method: number; at: Position };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    kind: fc.constant("edit" as const),
    range: fc.record({ start: position, end: position }),
    text: insertText,
  }),
  fc.record({ kind: fc.constant("request" as const), method: fc.nat(7), at: position }),
);

let docs = 0;

/** Sends one request of kind `method` at `at`; the server must answer it, whatever it is. */
function request(uri: string, method: number, at: Position): Promise<unknown> {
  const textDocument = { uri };
  const range = { start: at, end: at };
  switch (method) {
    case 0:
      return client.sendRequest(HoverRequest.type, { textDocument, position: at });
    case 1:
      return client.sendRequest(CompletionRequest.type, { textDocument, position: at });
    case 2:
      return client.sendRequest(SignatureHelpRequest.type, { textDocument, position: at });
    case 3:
      return client.sendRequest(DefinitionRequest.type, { textDocument, position: at });
    case 4:
      return client.sendRequest(InlayHintRequest.type, { textDocument, range });
    case 5:
      return client.sendRequest(DocumentSymbolRequest.type, { textDocument });
    case 6:
      return client.sendRequest(CodeActionRequest.type, {
        textDocument,
        range,
        context: { diagnostics: [] },
      });
    default:
      return client.sendRequest(DocumentFormattingRequest.type, {
        textDocument,
        options: { tabSize: 2, insertSpaces: true },
      });
  }
}

describe("fuzz: language server", () => {
  fuzzTest(
    "random edits and requests: every request answered, no internal error, diagnostics in range",
    { share: 0.2, runs: 6, timeout: 60_000 },
    fc.asyncProperty(
      fc.constantFrom(...samples),
      fc.array(action, { minLength: 1, maxLength: 25 }),
      async (text, actions) => {
        const uri = `file:///fuzz/doc${++docs}.net`;
        let doc = TextDocument.create(uri, "net", 1, text);
        await client.sendNotification(DidOpenTextDocumentNotification.type, {
          textDocument: { uri, languageId: "net", version: 1, text },
        });
        const answers: Promise<unknown>[] = [];
        for (const a of actions) {
          if (a.kind === "request") {
            answers.push(request(uri, a.method, a.at));
            continue;
          }
          const version = doc.version + 1;
          const change = { range: a.range, text: a.text };
          // Applied here as the server applies it (ranges clamped into the document).
          doc = textDocuments.update(doc, [change], version);
          await client.sendNotification(DidChangeTextDocumentNotification.type, {
            textDocument: { uri, version },
            contentChanges: [change],
          });
        }
        await Promise.all(answers);
        const { diagnostics } = await diagnosticsOf(uri, doc.version);
        // Lines counted afresh, not by the updated document's own index.
        const lines = TextDocument.create(uri, "net", 0, doc.getText()).lineCount;
        for (const d of diagnostics) {
          expect(d.range.start.line).toBeLessThan(lines);
          expect(d.range.end.line).toBeLessThan(lines);
        }
        expect(errorsLogged).toEqual([]);
      },
    ),
  );

  test("a hundred edits a second on the largest sample: the last version is checked at once", async () => {
    const text = samples.reduce((a, b) => (a.length >= b.length ? a : b));
    const uri = `file:///fuzz/doc${++docs}.net`;
    let doc = TextDocument.create(uri, "net", 1, text);
    await client.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: "net", version: 1, text },
    });
    for (let i = 0; i < 100; i++) {
      const change = {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        text: i % 2 ? "#" : "\n",
      };
      doc = TextDocument.update(doc, [change], doc.version + 1);
      await client.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: doc.version },
        contentChanges: [change],
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const sent = Date.now();
    await diagnosticsOf(uri, doc.version);
    // Checking every version of this sample takes a few milliseconds: none queue up.
    expect(Date.now() - sent).toBeLessThan(2_000);
  });
});
