// The netc command line as a user runs it: `node bin/netc.js ...` on samples and on bad inputs.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const ansi = /\u001b\[/;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The test runner's environment without its color settings: each test sets its own. */
function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  delete inherited["FORCE_COLOR"];
  delete inherited["NO_COLOR"];
  return { ...inherited, ...env };
}

/** Runs netc with piped output. */
function netc(args: string[], env: Record<string, string> = {}): Run {
  const run = spawnSync(process.execPath, ["bin/netc.js", ...args], {
    cwd: root,
    encoding: "utf8",
    env: environment(env),
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const dir = mkdtempSync(join(tmpdir(), "netc-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

// conv2's kernel 7 leaves [16, 4, 4] (256 values) where View(400) expects 400.
const viewMismatch = write(
  "view.net",
  `model LeNet {
  input image: [1, 28, 28]
  conv1: SpatialConvolution(6, kernel=5, pad=2) -> ReLU
  SpatialMaxPooling(2)
  conv2: SpatialConvolution(16, kernel=7) -> ReLU
  SpatialMaxPooling(2)
  View(400)
  fc: Linear(10)
}
`,
);
const unusedBlock = write(
  "unused-block.net",
  `block Head(n) {
  Linear(n)
}

model M {
  input x: [4]
  Linear(2)
}
`,
);
const inBlock = write(
  "in-block.net",
  `block Head(n) {
  Linear(n) -> ReLU
}

model M {
  input x: [3, 8, 8]
  h: Head(10)
}
`,
);
// A layer written over two lines, applied where it does not fit.
const splitLayer = write(
  "split-layer.net",
  `model M {
  input x: [1, 28, 28]
  fc: Linear(
    10)
}
`,
);
const batchNorm = write(
  "batch-norm.net",
  `model M {
  input x: [3, 8, 8]
  bn: SpatialBatchNormalization
  Flatten
  fc: Linear(10)
}
`,
);

/** The header line of the diagnostic whose header contains `text`, and the two lines after it. */
function frameOf(stdout: string, text: string): [string, string, string] {
  const lines = stdout.split("\n");
  const at = lines.findIndex((line) => line.includes(text));
  expect(at, `no line contains ${text}`).toBeGreaterThanOrEqual(0);
  return [lines[at]!, lines[at + 1]!, lines[at + 2]!];
}

describe("netc check", () => {
  test("every sample checks clean", () => {
    const samples = readdirSync(join(root, "samples")).filter((f) => f.endsWith(".net"));
    expect(samples.length).toBeGreaterThan(0);
    const run = netc(["check", ...samples.map((f) => `samples/${f}`)]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(samples.length);
    for (const [i, f] of samples.entries()) expect(lines[i]).toMatch(`samples/${f}: ok (`);
    expect(run.stdout).toContain("samples/lenet5.net: ok (LeNet5)");
  });

  test("an error is located, coded, shown in its line and marked with carets", () => {
    const run = netc(["check", viewMismatch]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe("");
    const [header, source, carets] = frameOf(run.stdout, "error[");
    expect(header).toBe(
      `${viewMismatch}:7:8 error[view-mismatch]: View(400) cannot reshape [16, 4, 4] (256 elements) into [400]`,
    );
    expect(source).toBe(" 7 |   View(400)");
    expect(carets).toBe("   |        ^^^");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("1 error in 1 file");
  });

  test("warnings alone exit 0", () => {
    const run = netc(["check", unusedBlock]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      `${unusedBlock}:1:7 warning[unused-block]: block 'Head' is never used`,
    );
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("1 warning in 1 file");
  });

  test("related locations are shown as notes with their own frame", () => {
    const run = netc(["check", inBlock]);
    expect(run.status).toBe(1);
    const [note, source, marks] = frameOf(run.stdout, " note: ");
    expect(note).toBe(`${inBlock}:2:3 note: Linear 'h.0' is here`);
    expect(source).toBe(" 2 |   Linear(n) -> ReLU");
    expect(marks).toBe("   |   ---------");
  });

  test("a range over several lines is marked to the end of its first line", () => {
    const run = netc(["check", splitLayer]);
    expect(run.status).toBe(1);
    const [header, source, carets] = frameOf(run.stdout, "error[");
    expect(header).toContain(`${splitLayer}:3:3 error[linear-needs-vector]`);
    expect(source).toBe(" 3 |   fc: Linear(");
    expect(carets).toBe("   |   ^^^^^^^^^^^");
  });

  test("tabs are expanded in the frame with the carets still under the range", () => {
    const file = write("tab.net", "model M {\n\tinput x: [1, 4, 4]\n\tLinear(2)\n}\n");
    const [header, source, carets] = frameOf(netc(["check", file]).stdout, "error[");
    expect(header).toContain(":3:2 error[linear-needs-vector]");
    expect(source).toBe(" 3 |     Linear(2)");
    expect(carets).toBe("   |     ^^^^^^^^^");
  });

  test("a very long line is cut to a window around the range", () => {
    const file = write(
      "long.net",
      `model M {\n  input x: [1, 4, 4]\n  ${"ReLU -> ".repeat(100)}Linear(2)\n}\n`,
    );
    const [, source, carets] = frameOf(netc(["check", file]).stdout, "error[linear-needs-vector]");
    expect(source.length).toBeLessThan(140);
    expect(source).toMatch(/^ 3 \| ….*ReLU -> Linear\(2\)$/);
    expect(carets.indexOf("^")).toBe(source.indexOf("Linear(2)"));
    expect(carets.trimEnd().endsWith("^".repeat("Linear(2)".length))).toBe(true);
  });

  test("--json prints only the diagnostics, 1-based with exclusive ends", () => {
    const run = netc(["check", "--json", viewMismatch, splitLayer, "samples/lenet5.net"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual([
      {
        file: viewMismatch,
        line: 7,
        column: 8,
        endLine: 7,
        endColumn: 11,
        severity: "error",
        code: "view-mismatch",
        message: "View(400) cannot reshape [16, 4, 4] (256 elements) into [400]",
      },
      {
        file: splitLayer,
        line: 3,
        column: 3,
        endLine: 4,
        endColumn: 8,
        severity: "error",
        code: "linear-needs-vector",
        message:
          "Linear needs one vector per sample, got [1, 28, 28]; insert Flatten or View(784) before it",
      },
    ]);
  });

  test("--json on clean files is an empty array", () => {
    const run = netc(["check", "--json", "samples/lenet5.net"]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([]);
  });

  test("--json keeps stdout parseable when a file cannot be read", () => {
    const missing = join(dir, "nowhere.net");
    const run = netc(["check", "--json", missing, viewMismatch]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`netc: ${missing}: no such file\n`);
    expect(JSON.parse(run.stdout)).toMatchObject([{ file: viewMismatch, code: "view-mismatch" }]);
  });
});

describe("netc shapes", () => {
  /** The table of the model `name`: tables are separated by blank lines. */
  function table(stdout: string, name: string): string {
    const found = stdout.split("\n\n").find((block) => block.startsWith(`${name} (`));
    expect(found, `no table for ${name}`).toBeDefined();
    return found!;
  }

  test("lenet5: a row per layer, and the totals", () => {
    const run = netc(["shapes", "samples/lenet5.net"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    const lenet = table(run.stdout, "LeNet5");
    expect(lenet).toMatch(/^layer +kind +output shape +params +FLOPs$/m);
    expect(lenet).toMatch(/^image +Input +\[N, 1, 28, 28\] +0 +0$/m);
    expect(lenet).toMatch(/^conv1 +SpatialConvolution +\[N, 6, 28, 28\] +156 +235,200$/m);
    expect(lenet).toMatch(/^conv2 +SpatialConvolution +\[N, 16, 10, 10\] +2,416 +480,000$/m);
    expect(lenet).toMatch(/^6 +View +\[N, 400\] +0 +0$/m);
    expect(lenet).toMatch(/^fc1 +Linear +\[N, 120\] +48,120 +96,000$/m);
    expect(lenet).toMatch(/^fc3 +Linear +\[N, 10\] +850 +1,680$/m);
    expect(lenet).toMatch(/^12 +LogSoftMax +\[N, 10\] +0 +0$/m);
    // (6·25 + 6) + (16·6·25 + 16) + (120·400 + 120) + (84·120 + 84) + (10·84 + 10) = 61,706
    expect(lenet).toMatch(/^parameters +61,706 \(241\.0 KB\)$/m);
    expect(lenet).toMatch(/^FLOPs +833,040 per sample$/m);
    // 15,796 values from the input to LogSoftMax, 4 bytes each.
    expect(lenet).toMatch(/^activations +63,184 bytes per sample \(61\.7 KB\)$/m);
  });

  test("numbers are right-aligned", () => {
    const rows = table(netc(["shapes", "samples/lenet5.net"]).stdout, "LeNet5").split("\n");
    const ends = rows.filter((r) => /^(conv1|fc3|image) /.test(r)).map((r) => r.length);
    expect(ends).toHaveLength(3);
    expect(new Set(ends).size).toBe(1);
  });

  test("the benchmark FLOPs of mlp and cnn", () => {
    const run = netc(["shapes", "samples/mlp.net", "samples/cnn.net"]);
    expect(run.status).toBe(0);
    expect(table(run.stdout, "MLP")).toMatch(/^FLOPs +469,504 per sample$/m);
    expect(table(run.stdout, "CNN")).toMatch(/^FLOPs +8,482,304 per sample$/m);
  });

  test("blocks' layers carry their use site's name", () => {
    const run = netc(["shapes", "samples/resnet-tiny.net"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^2\.a +SpatialConvolution +\[N, 16, 32, 32\] +2,320 +4,718,592$/m);
  });

  test("ecg-cnn: 1-D layers over [channels, length], their weights and FLOPs", () => {
    const run = netc(["shapes", "samples/ecg-cnn.net"]);
    expect(run.status).toBe(0);
    const ecg = table(run.stdout, "ECGNet");
    expect(ecg).toMatch(/^ecg +Input +\[N, 1, 256\] +0 +0$/m);
    // 16·1·7 weights, no bias; 2 FLOPs per multiply-add: 2·16·256·7.
    expect(ecg).toMatch(/^conv1 +TemporalConvolution +\[N, 16, 256\] +112 +57,344$/m);
    expect(ecg).toMatch(/^bn1 +BatchNormalization +\[N, 16, 256\] +64 +0$/m);
    expect(ecg).toMatch(/^3 +TemporalMaxPooling +\[N, 16, 128\] +0 +0$/m);
    expect(ecg).toMatch(/^conv2 +TemporalConvolution +\[N, 32, 128\] +2,560 +655,360$/m);
    expect(ecg).toMatch(/^11 +TemporalAveragePooling +\[N, 32, 1\] +0 +0$/m);
  });

  test("buffers are counted apart from trainable parameters", () => {
    const run = netc(["shapes", batchNorm]);
    expect(run.status).toBe(0);
    // bn: weight and bias 3 + 3, running mean and variance 3 + 3; fc: 10·192 + 10.
    expect(run.stdout).toMatch(
      /^parameters +1,942 \(7\.6 KB; 1,936 trainable, 6 non-trainable\)$/m,
    );
  });

  test("a file with errors: the diagnostics, the table up to the error, exit 1", () => {
    const run = netc(["shapes", viewMismatch]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`${viewMismatch}:7:8 error[view-mismatch]`);
    const lenet = table(run.stdout, "LeNet");
    expect(lenet).toContain("incomplete");
    expect(lenet).toMatch(/^conv2 +SpatialConvolution +\[N, 16, 8, 8\] +4,720 +602,112$/m);
    expect(lenet).not.toMatch(/View|Linear/);
  });
});

describe("netc shapes --kernels", () => {
  const mixed = write(
    "kernels.net",
    `model M {
  input x: [3, 8, 8]
  c = x -> SpatialConvolution(4, kernel=3, pad=1)
  a = c -> Tanh
  b = c -> Sigmoid
  y = Add(a, b) -> View(-1) -> fc: Linear(5) -> SoftPlus
  output y
}
criterion MSE
`,
  );

  test("lenet5: every step, the layers fused into it, all as WASM", () => {
    const run = netc(["shapes", "--kernels", "samples/lenet5.net"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /^LeNet5 \(samples\/lenet5\.net\): \d+ steps, every step runs as WASM$/m,
    );
    expect(run.stdout).toMatch(
      /^forward +conv2d +wasm +conv1 \(SpatialConvolution\) \+ 1 \(ReLU\)$/m,
    );
    expect(run.stdout).toMatch(/^loss +nll +wasm +NLL$/m);
    // The LogSoftMax's backward is the criterion's gradient step, fused.
    expect(run.stdout).toMatch(/^backward +class_loss_grad +wasm +12 \(LogSoftMax\) \+ NLL$/m);
  });

  test("--json: a step per element with its layers and backend; notes on unfused activations", () => {
    const run = netc(["shapes", "--kernels", "--json", mixed]);
    expect(run.status).toBe(0);
    const rows = JSON.parse(run.stdout) as {
      phase: string;
      kernel: string;
      layers: string[];
      backend: string;
      note?: string;
    }[];
    const forward = rows.filter((r) => r.phase === "forward");
    expect(forward.map((r) => [r.kernel, r.layers])).toEqual([
      ["conv2d", ["0"]],
      ["activation", ["1"]],
      ["activation", ["2"]],
      ["add", ["3"]],
      // SoftPlus, whose derivative reads its input, fuses: Linear keeps the value before it.
      ["linear", ["fc", "6"]],
    ]);
    expect(rows.every((r) => r.backend === "wasm" || r.backend === "js")).toBe(true);
    expect(forward[1]!.note).toBe(
      "not fused into SpatialConvolution '0': that layer's output is used by 2 layers",
    );
    expect(forward[4]!.note).toBeUndefined();
  });

  test("--backend ts: every step runs as JavaScript", () => {
    const run = netc(["shapes", "--kernels", "--backend", "ts", "samples/mlp.net"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/: \d+ steps, (\d+) run as JavaScript$/m);
    expect(run.stdout).not.toMatch(/ wasm /);
  });

  test("--json without --kernels is a usage error", () => {
    const run = netc(["shapes", "--json", "samples/mlp.net"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("netc: --json and --backend go with --kernels\n");
  });
});

describe("bad input gets one line on stderr and no stack trace", () => {
  const missing = join(dir, "missing.net");
  const directory = join(dir, "folder.net");
  mkdirSync(directory);
  const nul = write("nul.net", "model M {\0}\n");
  const latin1 = write("latin1.net", Uint8Array.from([...Buffer.from("model Caf"), 0xe9, 0x0a]));
  const empty = write("empty.net", "  \n\n");
  const comments = write("comments.net", "# nothing here yet\n\n# still nothing\n");
  const big = write("big.net", "#".repeat(10 * 1024 * 1024));

  test.each([
    ["a missing file", ["check", missing], 2, `netc: ${missing}: no such file`],
    ["a directory", ["check", directory], 2, `netc: ${directory}: is a directory`],
    [
      "a file with NUL bytes",
      ["check", nul],
      2,
      `netc: ${nul}: binary file (contains NUL bytes), not a .net source`,
    ],
    ["invalid UTF-8", ["check", latin1], 2, `netc: ${latin1}: not a text file (invalid UTF-8)`],
    ["an empty file", ["check", empty], 1, `netc: ${empty}: the file is empty; expected a 'model'`],
    [
      "a file of comments",
      ["check", comments],
      1,
      `netc: ${comments}: the file has only comments; expected a 'model'`,
    ],
    [
      "a file too large",
      ["check", big],
      2,
      `netc: ${big}: file is too large (10.0 MB, limit 4 MB)`,
    ],
    ["shapes of a missing file", ["shapes", missing], 2, `netc: ${missing}: no such file`],
    [
      "an unknown command",
      ["chek", "samples/lenet5.net"],
      2,
      "netc: unknown command 'chek'; did you mean check? (see 'netc --help')",
    ],
    [
      "an unknown option",
      ["check", "--jsno", "samples/lenet5.net"],
      2,
      "netc: unknown option '--jsno'; did you mean --json? (see 'netc --help')",
    ],
    ["no files", ["check"], 2, "netc: missing required argument 'files' (see 'netc --help')"],
  ])("%s", (_, args, status, message) => {
    const run = netc(args);
    expect(run.status).toBe(status);
    expect(run.stderr).toBe(`${message}\n`);
    expect(run.stderr).not.toContain("    at ");
    expect(run.stdout).toBe("");
  });

  test("no command prints the usage and exits 2", () => {
    const run = netc([]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^Usage: netc /);
    expect(run.stderr).not.toContain("    at ");
  });

  test("one unreadable file does not stop the others; the worst status wins", () => {
    const run = netc(["check", viewMismatch, missing, "samples/lenet5.net"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`netc: ${missing}: no such file\n`);
    expect(run.stdout).toContain(`${viewMismatch}:7:8 error[view-mismatch]`);
    expect(run.stdout).toContain("samples/lenet5.net: ok (LeNet5)");
  });

  test("an empty file among clean ones fails with 1", () => {
    const run = netc(["shapes", "samples/mlp.net", empty]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^FLOPs +469,504 per sample$/m);
  });

  test("a reader that stops early is no error", () => {
    const many = Array(300).fill("samples/cnn.net").join(" ");
    const run = spawnSync("sh", ["-c", `node bin/netc.js shapes ${many} | head -n 1`], {
      cwd: root,
      encoding: "utf8",
    });
    expect(run.stdout).toBe("CNN (samples/cnn.net)\n");
    expect(run.stderr).toBe("");
  });
});

describe("colors", () => {
  test("piped output has no ANSI escapes", () => {
    expect(netc(["check", viewMismatch]).stdout).not.toMatch(ansi);
    expect(netc(["shapes", "samples/lenet5.net"]).stdout).not.toMatch(ansi);
  });

  test("FORCE_COLOR turns them on, NO_COLOR wins over it", () => {
    expect(netc(["check", viewMismatch], { FORCE_COLOR: "1" }).stdout).toMatch(ansi);
    const run = netc(["check", viewMismatch], { FORCE_COLOR: "1", NO_COLOR: "1" });
    expect(run.stdout).toContain("error[view-mismatch]");
    expect(run.stdout).not.toMatch(ansi);
  });

  // util-linux `script` runs netc on a pseudo-terminal, as in an interactive shell.
  const hasScript = spawnSync("script", ["--version"]).status === 0;
  test.skipIf(!hasScript)("a terminal gets colors unless NO_COLOR is set", () => {
    const onTerminal = (env: Record<string, string>) =>
      spawnSync("script", ["-qec", `node bin/netc.js check ${viewMismatch}`, "/dev/null"], {
        cwd: root,
        encoding: "utf8",
        env: environment(env),
      });
    const colored = onTerminal({});
    expect(colored.stdout).toContain("view-mismatch");
    expect(colored.stdout).toMatch(ansi);
    const plain = onTerminal({ NO_COLOR: "1" });
    expect(plain.stdout).toContain("view-mismatch");
    expect(plain.stdout).not.toMatch(ansi);
  });
});
