// The language server as an editor drives it: `netc lsp --stdio` in a child process, over JSON-RPC.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
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
  PublishDiagnosticsNotification,
  SignatureHelpRequest,
  type CodeAction,
  type CompletionItem,
  type Diagnostic,
  type DocumentSymbol,
  type Hover,
  type InitializeResult,
  type InlayHint,
  type Position,
  type PublishDiagnosticsParams,
  type TextEdit,
} from "vscode-languageserver-protocol";
import { TextDocument } from "vscode-languageserver-textdocument";
import { generatedStack } from "../bench/generated-stack.js";
import { check } from "../compiler/index.js";
import { DocumentState } from "../editor/server/document-state.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const sample = (name: string) => readFileSync(`${root}samples/${name}`, "utf8");

let child: ChildProcess;
let client: MessageConnection;
let initialized: InitializeResult;
/** Every publishDiagnostics, in arrival order, per document. */
const published = new Map<string, PublishDiagnosticsParams[]>();
const waiters: (() => void)[] = [];

beforeAll(async () => {
  child = spawn(process.execPath, ["bin/netc.js", "lsp", "--stdio"], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  client = createMessageConnection(
    new StreamMessageReader(child.stdout!),
    new StreamMessageWriter(child.stdin!),
  );
  client.onNotification(PublishDiagnosticsNotification.type, (p) => {
    const list = published.get(p.uri) ?? [];
    list.push(p);
    published.set(p.uri, list);
    for (const wake of waiters.splice(0)) wake();
  });
  client.listen();
  initialized = await client.sendRequest(InitializeRequest.type, {
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

/** The diagnostics published for `version` of `uri`, waiting for them if need be. */
async function diagnosticsFor(
  uri: string,
  version: number,
  timeout = 10_000,
): Promise<Diagnostic[]> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const hit = published.get(uri)?.find((p) => p.version === version);
    if (hit) return hit.diagnostics;
    if (Date.now() > deadline) throw new Error(`no diagnostics for ${uri} version ${version}`);
    await new Promise<void>((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 100);
    });
  }
}

/** One open document, kept in step with what the server has. */
class Doc {
  doc: TextDocument;
  constructor(
    readonly uri: string,
    text: string,
  ) {
    this.doc = TextDocument.create(uri, "net", 1, text);
    void client.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: "net", version: 1, text },
    });
  }
  get text(): string {
    return this.doc.getText();
  }
  get version(): number {
    return this.doc.version;
  }
  diagnostics(): Promise<Diagnostic[]> {
    return diagnosticsFor(this.uri, this.version);
  }
  /** Applies edits here and sends them as incremental changes. */
  edit(edits: TextEdit[]): void {
    const version = this.version + 1;
    // The server applies content changes in order: later offsets first keeps earlier ones valid.
    const ordered = [...edits].sort(
      (a, b) =>
        b.range.start.line - a.range.start.line ||
        b.range.start.character - a.range.start.character,
    );
    this.doc = TextDocument.create(
      this.uri,
      "net",
      version,
      TextDocument.applyEdits(this.doc, edits),
    );
    void client.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: this.uri, version },
      contentChanges: ordered.map((e) => ({ range: e.range, text: e.newText })),
    });
  }
  replaceAll(text: string): void {
    const version = this.version + 1;
    this.doc = TextDocument.create(this.uri, "net", version, text);
    void client.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: this.uri, version },
      contentChanges: [{ text }],
    });
  }
  /** The position of the `nth` occurrence of `needle`, plus `shift` characters. */
  at(needle: string, shift = 0, nth = 0): Position {
    let index = -1;
    for (let i = 0; i <= nth; i++) index = this.text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`'${needle}' not in the document`);
    return this.doc.positionAt(index + shift);
  }
}

let docs = 0;
const open = (text: string) => new Doc(`file:///test/doc${++docs}.net`, text);

const range = (l1: number, c1: number, l2: number, c2: number) => ({
  start: { line: l1, character: c1 },
  end: { line: l2, character: c2 },
});

describe("netc lsp over stdio", () => {
  test("initialize announces the features", () => {
    const caps = initialized.capabilities;
    expect(caps.hoverProvider).toBe(true);
    expect(caps.inlayHintProvider).toBe(true);
    expect(caps.completionProvider).toBeDefined();
    expect(caps.signatureHelpProvider).toBeDefined();
    expect(caps.definitionProvider).toBe(true);
    expect(caps.documentSymbolProvider).toBe(true);
    expect(caps.codeActionProvider).toBeDefined();
    expect(caps.documentFormattingProvider).toBe(true);
  });

  test("a clean sample gets empty diagnostics on open", async () => {
    expect(await open(sample("lenet5.net")).diagnostics()).toEqual([]);
  });

  test("diagnostics carry exact ranges, codes and related information", async () => {
    const doc = open(
      [
        "model M {",
        "  input x: [1, 28, 28]",
        "  conv1: SpatialConvolution(6, kernel=5) -> Relu",
        "  fc: Linear(10)",
        "}",
        "criterion NLL",
      ].join("\n"),
    );
    const diagnostics = await doc.diagnostics();
    expect(diagnostics.map((d) => [d.code, d.severity, d.range])).toEqual([
      ["unknown-layer", 1, range(2, 44, 2, 48)],
      ["linear-needs-vector", 1, range(3, 2, 3, 16)],
    ]);
    expect(diagnostics[0]!.message).toBe("unknown layer 'Relu'; did you mean 'ReLU'?");
    expect(diagnostics[0]!.source).toBe("netc");
  });

  test("a problem inside a block points at the use, with the block's layer as related", async () => {
    const doc = open(
      [
        "block Half(c) {",
        "  SpatialConvolution(c / 2, kernel=1)",
        "}",
        "model M {",
        "  input x: [3, 8, 8]",
        "  Half(5)",
        "}",
        "criterion MSE",
      ].join("\n"),
    );
    const [d] = await doc.diagnostics();
    expect(d!.code).toBe("inexact-division");
    expect(d!.relatedInformation?.length).toBeGreaterThan(0);
    expect(d!.relatedInformation![0]!.location.uri).toBe(doc.uri);
  });

  test("hover on a layer: output shape, parameters and FLOPs", async () => {
    const doc = open(sample("lenet5.net"));
    const hover = (await client.sendRequest(HoverRequest.type, {
      textDocument: { uri: doc.uri },
      position: doc.at("SpatialConvolution", 3),
    })) as Hover;
    const text = (hover.contents as { value: string }).value;
    expect(text).toContain("SpatialConvolution(out, kernel");
    expect(text).toContain("`conv1` → `[6, 28, 28]`");
    expect(text).toContain("156 parameters");
    expect(text).toContain("235,200 FLOPs per sample");
    expect(hover.range).toEqual({ start: doc.at("SpatialConvolution"), end: doc.at("(6, k") });
  });

  test("hover on a block use: its signature and what it expands to", async () => {
    const doc = open(sample("resnet-tiny.net"));
    const hover = (await client.sendRequest(HoverRequest.type, {
      textDocument: { uri: doc.uri },
      position: doc.at("Residual(16)", 2),
    })) as Hover;
    const text = (hover.contents as { value: string }).value;
    expect(text).toContain("block Residual(c)");
    expect(text).toContain("→ `[16, 32, 32]`");
    expect(text).toContain("| `2.a` | SpatialConvolution | `[16, 32, 32]` |");
    expect(text).toContain("| `2.b` | SpatialConvolution | `[16, 32, 32]` |");
    expect(text).toContain("4,640 parameters");
  });

  test("inlay hints: the output shape at the end of each layer line", async () => {
    const doc = open(sample("lenet5.net"));
    const hints = (await client.sendRequest(InlayHintRequest.type, {
      textDocument: { uri: doc.uri },
      range: range(0, 0, 100, 0),
    })) as InlayHint[];
    const lines = doc.text.split("\n");
    expect(hints.map((h) => [lines[h.position.line]!.trim().split(/\s+#/)[0], h.label])).toEqual([
      ["conv1: SpatialConvolution(6, kernel=5, pad=2) -> ReLU", "[6, 28, 28]"],
      ["SpatialMaxPooling(2)", "[6, 14, 14]"],
      ["conv2: SpatialConvolution(16, kernel=5) -> ReLU", "[16, 10, 10]"],
      ["SpatialMaxPooling(2)", "[16, 5, 5]"],
      ["View(400)", "[400]"],
      ["fc1: Linear(120) -> ReLU", "[120]"],
      ["fc2: Linear(84) -> ReLU", "[84]"],
      ["fc3: Linear(10)", "[10]"],
      ["LogSoftMax", "[10]"],
    ]);
    // At the end of the code, before any comment.
    expect(hints[4]!.position).toEqual(doc.at("View(400)", 9));
  });

  const complete = async (doc: Doc, position: Position) =>
    (await client.sendRequest(CompletionRequest.type, {
      textDocument: { uri: doc.uri },
      position,
    })) as CompletionItem[];

  test("completion: layers with signatures, argument names, values and outputs", async () => {
    const doc = open(
      [
        "model M {",
        "  input x: [3, 8, 8]",
        "  a = x -> SpatialConvolution(4, ke",
        "  b = x -> Lin",
        "  c = Concat(a, b)",
        "  output c",
        "}",
        "criterion MSE(",
      ].join("\n"),
    );
    const layerItems = await complete(doc, doc.at("Lin", 3));
    const linear = layerItems.find((i) => i.label === "Linear")!;
    expect(linear.detail).toBe("Linear(out, bias=true)");
    expect((linear.documentation as { value: string }).value).toContain("Fully connected");
    expect(layerItems.some((i) => i.label === "SpatialConvolution")).toBe(true);

    const args = await complete(doc, doc.at("(4, ke", 6));
    expect(args.map((i) => i.label)).toContain("kernel=");
    expect(args.map((i) => i.label)).not.toContain("out=");

    const values = await complete(doc, doc.at("Concat(a, ", 10));
    expect(values.map((i) => i.label)).toEqual(["x", "a", "b", "c"]);

    const outputs = await complete(doc, doc.at("MSE(", 4));
    expect(outputs.map((i) => i.label)).toEqual(["c"]);
  });

  test("completion and hover in a criterion's call: outputs, the options not given yet", async () => {
    const doc = open(
      "model M {\n  input x: [4]\n  out = x -> Linear(3)\n  output out\n}\ncriterion CrossEntropy(out, ignore=255,",
    );
    const items = await complete(doc, doc.at("255,", 4));
    expect(items.map((i) => i.label)).toEqual(["out", "weights=", "label_smoothing="]);
    const whole = open(
      "model M {\n  input x: [4]\n  out = x -> Linear(3)\n  output out\n}\ncriterion CrossEntropy(out, ignore=255)\n",
    );
    const hover = (await client.sendRequest(HoverRequest.type, {
      textDocument: { uri: whole.uri },
      position: whole.at("ignore", 2),
    })) as Hover | null;
    expect(JSON.stringify(hover?.contents)).toContain("ignore_index");
  });

  test("completion in a train block: settings, then each setting's optimizers or schedules", async () => {
    const doc = open(
      [
        "model M {",
        "  input x: [4]",
        "  Linear(2)",
        "}",
        "criterion MSE",
        "train {",
        "  schedule = ",
        "  warmup = Lin",
        "  optimizer = RMSprop(cen",
        "  ",
        "}",
      ].join("\n"),
    );
    const labels = async (position: Position) =>
      (await complete(doc, position)).map((i) => i.label);
    expect(await labels(doc.at("schedule = ", 11))).toEqual([
      "StepLR",
      "MultiStepLR",
      "ExponentialLR",
      "CosineAnnealingLR",
      "LinearLR",
    ]);
    const warmups = await complete(doc, doc.at("warmup = Lin", 12));
    expect(warmups.map((i) => [i.label, i.detail])).toEqual([
      ["LinearLR", "LinearLR(start_factor=0.3333333333333333, end_factor=1, total_iters=5)"],
    ]);
    expect(await labels(doc.at("(cen", 4))).toContain("centered=");
    expect(await labels(doc.at("  \n}", 2))).toEqual(
      expect.arrayContaining(["optimizer", "schedule", "warmup", "clip_grad_norm", "epochs"]),
    );
    const hover = (await client.sendRequest(HoverRequest.type, {
      textDocument: { uri: doc.uri },
      position: doc.at("RMSprop", 2),
    })) as { contents: { value: string } };
    expect(hover.contents.value).toContain(
      "RMSprop(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=false)",
    );
  });

  test("signature help follows the argument being written", async () => {
    const doc = open("model M {\n  input x: [3, 8, 8]\n  SpatialConvolution(8, kernel=3, \n}\n");
    const help = await client.sendRequest(SignatureHelpRequest.type, {
      textDocument: { uri: doc.uri },
      position: doc.at("kernel=3, ", 10),
    });
    const signature = help!.signatures[0]!;
    expect(signature.label).toMatch(/^SpatialConvolution\(out, kernel, stride=1, pad=0/);
    expect(help!.activeParameter).toBe(2);
    const second = await client.sendRequest(SignatureHelpRequest.type, {
      textDocument: { uri: doc.uri },
      position: doc.at("kernel=", 4),
    });
    expect(second!.activeParameter).toBe(1);
  });

  test("go to definition: blocks, bindings and outputs", async () => {
    const doc = open(sample("tiny-unet.net"));
    const go = (position: Position) =>
      client.sendRequest(DefinitionRequest.type, { textDocument: { uri: doc.uri }, position });
    expect(await go(doc.at("DoubleConv", 1, 1))).toEqual({
      uri: doc.uri,
      range: { start: doc.at("DoubleConv"), end: doc.at("(c) {") },
    });
    const e1 = doc.at("e1 = x");
    expect(await go(doc.at("Concat(e1", 8))).toEqual({
      uri: doc.uri,
      range: { start: e1, end: { line: e1.line, character: e1.character + 2 } },
    });
    const out = doc.at("out = d1");
    expect(await go(doc.at("output out", 8))).toEqual({
      uri: doc.uri,
      range: { start: out, end: { line: out.line, character: out.character + 3 } },
    });
  });

  test("document symbols: models, blocks, values and labelled layers", async () => {
    const doc = open(sample("lenet5.net"));
    const symbols = (await client.sendRequest(DocumentSymbolRequest.type, {
      textDocument: { uri: doc.uri },
    })) as DocumentSymbol[];
    expect(symbols.map((s) => s.name)).toEqual(["LeNet5", "criterion", "train"]);
    expect(symbols[0]!.children!.map((c) => [c.name, c.detail])).toEqual([
      ["image", "input"],
      ["conv1", "[6, 28, 28]"],
      ["conv2", "[16, 10, 10]"],
      ["fc1", "[120]"],
      ["fc2", "[84]"],
      ["fc3", "[10]"],
    ]);
  });

  /** Applies the first quick fix for `code`, and returns the diagnostics of the new version. */
  async function fix(text: string, code: string, expected: string): Promise<Diagnostic[]> {
    const doc = open(text);
    const diagnostic = (await doc.diagnostics()).find((d) => d.code === code)!;
    expect(diagnostic, code).toBeDefined();
    const actions = (await client.sendRequest(CodeActionRequest.type, {
      textDocument: { uri: doc.uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    })) as CodeAction[];
    const action = actions.find((a) => a.diagnostics?.[0]?.code === code)!;
    expect(action.kind).toBe("quickfix");
    doc.edit(action.edit!.changes![doc.uri]!);
    expect(doc.text).toBe(expected);
    return doc.diagnostics();
  }

  test("quick fix: the inferred size in View", async () => {
    const before = "model M {\n  input x: [4, 5, 5]\n  View(4 * 4 * 4)\n  Linear(2)\n}\n";
    const after = "model M {\n  input x: [4, 5, 5]\n  View(100)\n  Linear(2)\n}\n";
    expect(await fix(before, "view-mismatch", after)).toEqual([]);
  });

  test("quick fix: an explicit input size, written before the arrow or by name", async () => {
    const arrow = "model M {\n  input x: [30]\n  Linear(20 -> 10)\n}\n";
    expect(await fix(arrow, "input-size-mismatch", arrow.replace("20 ->", "30 ->"))).toEqual([]);
    const named = "model M {\n  input x: [30]\n  Linear(10, in=20)\n}\n";
    expect(await fix(named, "input-size-mismatch", named.replace("in=20", "in=30"))).toEqual([]);
  });

  test("quick fix: Flatten before Linear keeps the label on the Linear", async () => {
    const before = "model M {\n  input x: [2, 3, 3]\n  fc: Linear(4)\n}\n";
    const after = "model M {\n  input x: [2, 3, 3]\n  Flatten -> fc: Linear(4)\n}\n";
    expect(await fix(before, "linear-needs-vector", after)).toEqual([]);
  });

  test("quick fix: did you mean", async () => {
    const before = "model M {\n  input x: [8]\n  Linear(4) -> Relu\n}\ncriterion MSEE\n";
    const after = "model M {\n  input x: [8]\n  Linear(4) -> ReLU\n}\ncriterion MSEE\n";
    const left = await fix(before, "unknown-layer", after);
    expect(left.map((d) => d.code)).toEqual(["unknown-criterion"]);
    const arg = "model M {\n  input x: [1, 8, 8]\n  SpatialConvolution(2, kernal=3)\n}\n";
    expect(await fix(arg, "unknown-argument", arg.replace("kernal", "kernel"))).toEqual([]);
  });

  test("quick fix: PyTorch's names and argument order, rewritten in netc's", async () => {
    const image = "model M {\n  input x: [1, 8, 8]\n";
    const conv = `${image}  nn.Conv2d(1, 6, kernel_size=3, padding=1, bias=False)\n}\n`;
    const netc = `${image}  SpatialConvolution(1 -> 6, kernel=3, pad=1, bias=false)\n}\n`;
    expect(await fix(conv, "unknown-layer", netc)).toEqual([]);
    const pool = `${image}  MaxPool2d(2, 2, 0)\n}\n`;
    expect(await fix(pool, "unknown-layer", `${image}  SpatialMaxPooling(2, 2, 0)\n}\n`)).toEqual(
      [],
    );
    const linear = "model M {\n  input x: [400]\n  Linear(400, 120, False)\n}\n";
    const arrow = "model M {\n  input x: [400]\n  Linear(400 -> 120, false)\n}\n";
    expect(await fix(linear, "pytorch-arguments", arrow)).toEqual([]);
    // An input size alone before named arguments is named too: netc's first is the output's.
    const partly = "model M {\n  input x: [400]\n  Linear(400, out_features=120)\n}\n";
    const named = partly.replace("400, out_features", "in=400, out");
    expect(await fix(partly, "pytorch-arguments", named)).toEqual([]);
    const arg = `${image}  SpatialMaxPooling(kernel_size=2)\n}\n`;
    expect(await fix(arg, "unknown-argument", arg.replace("kernel_size", "kernel"))).toEqual([]);
    const groupNorm = `${image}  nn.GroupNorm(1, 1, eps=1e-3)\n}\n`;
    const groups = `${image}  GroupNormalization(1, 1, eps=1e-3)\n}\n`;
    expect(await fix(groupNorm, "unknown-layer", groups)).toEqual([]);
    const instance = `${image}  InstanceNorm2d(1, affine=True)\n}\n`;
    const instances = `${image}  InstanceNormalization(1, affine=true)\n}\n`;
    expect(await fix(instance, "unknown-layer", instances)).toEqual([]);
    const train =
      "model M {\n  input x: [8]\n  Linear(2)\n}\ntrain {\n  lr = 0.01\n  batch_size = 4\n}\n";
    const left = await fix(
      train,
      "unknown-setting",
      train.replace("lr = 0.01", "optimizer = SGD(lr=0.01)"),
    );
    expect(left.map((d) => d.message)).toEqual([
      "unknown train setting 'batch_size'; did you mean 'batch'?",
    ]);
  });

  test("hover on a repeated layer: the shape after each repetition", async () => {
    const doc = open("model M {\n  input x: [1, 16, 16]\n  SpatialMaxPooling(2) * 3\n}\n");
    const hover = (await client.sendRequest(HoverRequest.type, {
      textDocument: { uri: doc.uri },
      position: doc.at("SpatialMaxPooling", 3),
    })) as Hover;
    const text = (hover.contents as { value: string }).value;
    expect(text).toContain("SpatialMaxPooling(kernel, stride=kernel, pad=0)");
    expect(text).toContain("`0.0` → `[1, 8, 8]`");
    expect(text).toContain("`0.1` → `[1, 4, 4]`");
    expect(text).toContain("`0.2` → `[1, 2, 2]`");
  });

  test("completion after a repeat's `*`: the block's parameters, not layers", async () => {
    const doc = open(
      "block B(c, depth) {\n  Linear(c) * d\n}\nmodel M {\n  input x: [4]\n  B(4, 2)\n}\n",
    );
    const items = await complete(doc, doc.at("* d", 3));
    expect(items.map((i) => i.label)).toEqual(["c", "depth"]);
  });

  test("quick fix: LogSoftMax or Sigmoid before the criterion", async () => {
    const nll = "model M {\n  input x: [8]\n  Linear(4)\n}\ncriterion NLL\n";
    const withHead = "model M {\n  input x: [8]\n  Linear(4) -> LogSoftMax\n}\ncriterion NLL\n";
    expect(await fix(nll, "nll-without-logsoftmax", withHead)).toEqual([]);
    const bce =
      "model M {\n  input x: [8]\n  out = x -> Linear(1)\n  output out\n}\ncriterion BCE(out)\n";
    const sigmoid = bce.replace("Linear(1)", "Linear(1) -> Sigmoid");
    expect(await fix(bce, "bce-without-sigmoid", sigmoid)).toEqual([]);
  });

  test("quick fix: BCEWithLogits after a Sigmoid drops the Sigmoid, in a stack or a chain", async () => {
    const stack = "model M {\n  input x: [8]\n  Linear(4)\n  Sigmoid\n}\ncriterion BCEWithLogits\n";
    const dropped = "model M {\n  input x: [8]\n  Linear(4)\n}\ncriterion BCEWithLogits\n";
    expect(await fix(stack, "sigmoid-before-bcewithlogits", dropped)).toEqual([]);
    const chain =
      "model M {\n  input x: [8]\n  p = x -> Linear(2) -> Sigmoid\n  output p\n}\ncriterion BCEWithLogits(p)\n";
    const withoutSigmoid = chain.replace(" -> Sigmoid", "");
    expect(await fix(chain, "sigmoid-before-bcewithlogits", withoutSigmoid)).toEqual([]);
  });

  test("no quick fix where dropping the Sigmoid would change more than the criterion's input", () => {
    const fixesOf = (text: string) =>
      check(text).diagnostics.find((d) => d.code === "sigmoid-before-bcewithlogits")?.fixes;
    // Read by another layer too, bound on its own line, or right after the input.
    const shared =
      "model M {\n  input x: [8]\n  p = x -> Linear(2) -> Sigmoid\n  q = p -> Linear(2)\n  output p, q\n}\ncriterion BCEWithLogits(p) + MSE(q)\n";
    const apart =
      "model M {\n  input x: [8]\n  h = x -> Linear(2)\n  p = h -> Sigmoid\n  output p\n}\ncriterion BCEWithLogits(p)\n";
    const onInput =
      "model M {\n  input x: [8]\n  p = x -> Sigmoid\n  output p\n}\ncriterion BCEWithLogits(p)\n";
    for (const text of [shared, apart, onInput]) expect(fixesOf(text), text).toBeUndefined();
  });

  test("formatting returns one edit to the formatted text; no edit when already formatted", async () => {
    const doc = open("model   M {\ninput x: [8]\n     Linear(4)->ReLU\n}\ncriterion   MSE\n");
    const format = () =>
      client.sendRequest(DocumentFormattingRequest.type, {
        textDocument: { uri: doc.uri },
        options: { tabSize: 2, insertSpaces: true },
      }) as Promise<TextEdit[]>;
    doc.edit(await format());
    expect(doc.text).toBe("model M {\n  input x: [8]\n  Linear(4) -> ReLU\n}\n\ncriterion MSE\n");
    expect(await format()).toEqual([]);
  });

  test("a burst of 50 rapid edits: only the last version's diagnostics are published", async () => {
    const doc = open("model M {\n  input x: [8]\n  Linear(4)\n}\n");
    await doc.diagnostics();
    const before = published.get(doc.uri)!.length;
    for (let i = 0; i < 50; i++) {
      // Each edit leaves a different error: an unknown layer named after the version.
      doc.replaceAll(`model M {\n  input x: [8]\n  Linear(4) -> Layer${doc.version + 1}\n}\n`);
    }
    const final = await doc.diagnostics();
    expect(final.map((d) => d.message)).toEqual([`unknown layer 'Layer${doc.version}'`]);
    await new Promise((r) => setTimeout(r, 300)); // anything late would arrive now
    const burst = published.get(doc.uri)!.slice(before);
    // Debounced: far fewer than 50 publications, versions increasing, the last one last.
    expect(burst.length).toBeLessThan(10);
    const versions = burst.map((p) => p.version!);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions[versions.length - 1]).toBe(doc.version);
  });

  test("a file of garbage: diagnostics, and every request still answers", async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = "model{}()[]<>-=:,.#+*/ \n\t\"'@$%\\0123456789abcXYZ→é😀\u0000";
    const text = Array.from(
      { length: 4000 },
      () => alphabet[Math.floor(random() * alphabet.length)],
    ).join("");
    const doc = open(text);
    expect((await doc.diagnostics()).length).toBeGreaterThan(0);
    for (let i = 0; i < 40; i++) {
      const position = doc.doc.positionAt(Math.floor(random() * text.length));
      const textDocument = { uri: doc.uri };
      await client.sendRequest(HoverRequest.type, { textDocument, position });
      await client.sendRequest(CompletionRequest.type, { textDocument, position });
      await client.sendRequest(SignatureHelpRequest.type, { textDocument, position });
      await client.sendRequest(DefinitionRequest.type, { textDocument, position });
      await client.sendRequest(CodeActionRequest.type, {
        textDocument,
        range: { start: position, end: position },
        context: { diagnostics: [] },
      });
    }
    const textDocument = { uri: doc.uri };
    await client.sendRequest(InlayHintRequest.type, { textDocument, range: range(0, 0, 9999, 0) });
    await client.sendRequest(DocumentSymbolRequest.type, { textDocument });
    const options = { tabSize: 2, insertSpaces: true };
    expect(
      await client.sendRequest(DocumentFormattingRequest.type, { textDocument, options }),
    ).toEqual([]);
  });

  test("a file that grows to 10,000 lines keeps getting diagnostics", async () => {
    const doc = open(generatedStack(100));
    expect(await doc.diagnostics()).toEqual([]);
    // Grows by pasting blocks of layer lines after the stem, as an editor would send them.
    const line = "  SpatialConvolution(8, kernel=3, pad=1) -> ReLU\n";
    while (doc.text.split("\n").length < 10_000) {
      doc.edit([{ range: range(2, 0, 2, 0), newText: line.repeat(1000) }]);
    }
    expect(doc.text.split("\n").length).toBeGreaterThanOrEqual(10_000);
    expect(await doc.diagnostics()).toEqual([]);
    // A mistake at the very end is found, at its exact place.
    const lines = doc.text.split("\n").length;
    doc.edit([{ range: range(lines - 4, 2, lines - 4, 6), newText: "Logs" }]);
    const [d] = await doc.diagnostics();
    expect(d!.code).toBe("unknown-layer");
    expect(d!.range).toEqual(range(lines - 4, 2, lines - 4, 12));
    const hints = (await client.sendRequest(InlayHintRequest.type, {
      textDocument: { uri: doc.uri },
      range: range(5000, 0, 5010, 0),
    })) as InlayHint[];
    expect(hints.map((h) => h.label)).toEqual(Array(10).fill("[8, 16, 16]"));
  });

  test("a document nested 300 brackets deep gets its diagnostic; the server lives on", async () => {
    // It ended the server: a RangeError thrown while checking, in the debounce timer.
    const doc = open(
      `model M {\n  input x: [10]\n  Linear(${"(".repeat(300)}10${")".repeat(300)})\n}\n`,
    );
    const [d] = await doc.diagnostics();
    expect(d).toMatchObject({ code: "nesting-too-deep", range: range(2, 40, 2, 41) });
    await client.sendRequest(HoverRequest.type, {
      textDocument: { uri: doc.uri },
      position: { line: 2, character: 100 },
    });
    expect(await open(sample("lenet5.net")).diagnostics()).toEqual([]);
  });

  test("an edit past the end, its range reversed, leaves the server's lines right (found by the fuzzer)", async () => {
    const doc = open("model M {\n  input x: [10]\n  Linear(5)\n}\n");
    // The protocol's library, applying this as is, counted 61 lines in a 5-line text, and put
    // the next edit's "MSE" at the start of the file.
    doc.edit([{ range: range(60, 0, 59, 0), newText: "criterion MSEE\n" }]);
    expect((await doc.diagnostics()).map((d) => d.code)).toEqual(["unknown-criterion"]);
    doc.edit([{ range: range(4, 10, 4, 14), newText: "MSE" }]);
    expect(doc.text).toBe("model M {\n  input x: [10]\n  Linear(5)\n}\ncriterion MSE\n");
    expect(await doc.diagnostics()).toEqual([]);
  });

  test("after a lone CR, diagnostics are on the line the editor shows", async () => {
    const doc = open("model M {\r  input x: [10]\r  Linear(5) -> Relu\r}\r");
    const [d] = await doc.diagnostics();
    expect(d).toMatchObject({ code: "unknown-layer", range: range(2, 15, 2, 19) });
  });
});

describe("DocumentState", () => {
  test("an exception while publishing, in the debounce timer, is logged and the next version goes out", async () => {
    let doc = TextDocument.create("file:///state.net", "net", 1, sample("mlp.net"));
    const failures: string[] = [];
    const sent: number[] = [];
    const state = new DocumentState(
      () => doc,
      (a) => {
        if (a.version === 1) throw new Error("publishing failed");
        sent.push(a.version);
      },
      1,
      (what, error) => failures.push(`${what}: ${(error as Error).message}`),
    );
    state.changed(doc.uri);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(failures).toEqual([
      "publishing the diagnostics of file:///state.net: publishing failed",
    ]);
    doc = TextDocument.create(doc.uri, "net", 2, doc.getText() + "\n");
    state.changed(doc.uri);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent).toEqual([2]);
  });
});
