// The `shapes` table of one model, like Keras's model.summary(): a row per node, then totals.
import type { IRNode, ModelIR } from "../compiler/index.js";
import type { Colors } from "./colors.js";
import { formatBytes, formatCount } from "../compiler/units.js";

// Memory is estimated for float32, the precision models are trained in.
const BYTES_PER_VALUE = 4;

const columns = [
  { title: "layer", right: false },
  { title: "kind", right: false },
  { title: "output shape", right: false },
  { title: "params", right: true },
  { title: "FLOPs", right: true },
];

/** `incomplete`: the file has errors, so nodes after them are missing and the totals are partial. */
export function renderModelSummary(
  model: ModelIR,
  path: string,
  incomplete: boolean,
  c: Colors,
): string {
  const rows = model.nodes.map((node) => [
    node.name,
    // A layer the train block freezes (`freeze = [...]`): its parameters are not trained.
    node.params.some((p) => p.frozen) ? `${node.op} (frozen)` : node.op,
    // Shapes are per sample; N stands for the batch, which every layer keeps.
    `[${["N", ...node.shape].join(", ")}]`,
    formatCount(paramCount(node)),
    formatCount(node.flops),
  ]);
  // A fold, not Math.max(...rows): 200,000 layers are more arguments than a call can take.
  const widths = columns.map((col, i) =>
    rows.reduce((width, row) => Math.max(width, row[i]!.length), col.title.length),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (columns[i]!.right ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const rule = c.dim("─".repeat(widths.reduce((sum, w) => sum + w + 2, -2)));

  const note = incomplete ? c.yellow(" — incomplete: the file has errors") : "";
  return [
    `${c.bold(model.name)} ${c.dim(`(${path})`)}${note}`,
    c.bold(line(columns.map((col) => col.title))),
    rule,
    ...rows.map(line),
    rule,
    ...totals(model.nodes),
  ].join("\n");
}

function totals(nodes: IRNode[]): string[] {
  const params = nodes.flatMap((n) => n.params);
  const count = (list: typeof params) => list.reduce((sum, p) => sum + size(p.shape), 0);
  const trainable = count(params.filter((p) => p.trainable));
  const frozen = count(params.filter((p) => p.frozen));
  const all = count(params);
  const flops = nodes.reduce((sum, n) => sum + n.flops, 0);
  const activationBytes = nodes.reduce((sum, n) => sum + size(n.shape), 0) * BYTES_PER_VALUE;

  // Buffers such as batch-norm running statistics are stored but not trained; so are frozen
  // layers' parameters, counted apart.
  const buffers = all - trainable - frozen;
  const split =
    all === trainable
      ? ""
      : `; ${formatCount(trainable)} trainable` +
        (frozen > 0 ? `, ${formatCount(frozen)} frozen` : "") +
        (buffers > 0 ? `, ${formatCount(buffers)} non-trainable` : "");
  const rows: [string, string, string][] = [
    ["parameters", formatCount(all), `(${formatBytes(all * BYTES_PER_VALUE)}${split})`],
    ["FLOPs", formatCount(flops), "per sample"],
    [
      "activations",
      formatCount(activationBytes),
      `bytes per sample (${formatBytes(activationBytes)})`,
    ],
  ];
  const label = rows.reduce((width, r) => Math.max(width, r[0].length), 0);
  const number = rows.reduce((width, r) => Math.max(width, r[1].length), 0);
  return rows.map(
    ([name, value, unit]) => `${name.padEnd(label)}  ${value.padStart(number)} ${unit}`,
  );
}

function paramCount(node: IRNode): number {
  return node.params.reduce((sum, p) => sum + size(p.shape), 0);
}

function size(shape: readonly number[]): number {
  return shape.reduce((product, d) => product * d, 1);
}
