// `netc shapes --kernels`: every step of a compiled model, the layers fused into it, and whether
// it runs as WASM or falls back to its JavaScript kernel; which steps a training step runs; and
// why an activation was not fused.
import type { Compiled } from "../compiler/compile.js";
import { frozenCount } from "../compiler/freeze.js";
import { parameterBackward } from "../compiler/lower/program.js";
import { formatCount } from "../compiler/units.js";
import type { Colors } from "./colors.js";

/** One step, as `--json` prints it. */
export interface KernelRow {
  file: string;
  model: string;
  phase: "forward" | "loss" | "backward";
  kernel: string;
  layers: string[];
  backend: "wasm" | "js";
  /**
   * Whether a training step (`trainStep`) runs it: not a backward step that only makes input
   * gradients (for `lossAndGrad`), such as those through frozen layers.
   */
  trainStep: boolean;
  /** Why an activation among the layers runs on its own instead of fused. */
  note?: string;
}

export function kernelRows(compiled: Compiled, file: string, wasm: boolean): KernelRow[] {
  const { program } = compiled;
  const notes = new Map(program.unfused.map((u) => [u.layer, u.reason]));
  const phases = [
    ["forward", program.forward],
    ["loss", program.loss],
    ["backward", program.backward],
  ] as const;
  const training = new Set(parameterBackward(program));
  let index = 0;
  return phases.flatMap(([phase, steps]) =>
    steps.map((step) => {
      const onWasm = wasm && !compiled.wasm.fallback.includes(index++);
      const note = step.layers.map((l) => notes.get(l)).find((n) => n !== undefined);
      return {
        file,
        model: program.model,
        phase,
        kernel: step.kernel,
        layers: [...step.layers],
        backend: onWasm ? "wasm" : "js",
        trainStep: phase !== "backward" || training.has(step),
        ...(note && phase === "forward" ? { note } : {}),
      };
    }),
  );
}

/** A table of the steps: phase, kernel, where it runs, the layers (with their kind) it computes. */
export function renderKernels(compiled: Compiled, rows: KernelRow[], path: string, c: Colors) {
  const kinds = new Map(compiled.model.nodes.map((n) => [n.name, n.op]));
  const layerText = (names: string[]) =>
    names.map((n) => (kinds.has(n) ? `${n} (${kinds.get(n)})` : n)).join(" + ");
  // A backward step that a training step skips only makes input gradients.
  const phase = (r: KernelRow) => (r.trainStep ? r.phase : "input grad");
  const table = rows.map((r) => [phase(r), r.kernel, r.backend, layerText(r.layers)]);
  const head = ["phase", "kernel", "runs", "layers"];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const js = rows.filter((r) => r.backend === "js");
  const status =
    js.length === 0
      ? c.green("every step runs as WASM")
      : c.yellow(`${js.length} run as JavaScript`);
  const notes = rows.flatMap((r) => (r.note ? [`${layerText(r.layers)}: ${r.note}`] : []));
  const skipped = rows.filter((r) => !r.trainStep).length;
  const training = `a training step runs ${rows.length - skipped} of them${skipped > 0 ? `, not the ${skipped} "input grad" steps, which lossAndGrad runs for the input's gradient` : ""}`;
  const frozen = compiled.model.train.freeze ?? [];
  return [
    `${c.bold(compiled.model.name)} ${c.dim(`(${path})`)}: ${rows.length} steps, ${status}`,
    c.dim(training),
    ...(frozen.length > 0
      ? [
          c.dim(
            `frozen: ${frozen.join(", ")} (${formatCount(frozenCount(compiled.model.nodes))} parameters: no weight gradients, no update)`,
          ),
        ]
      : []),
    c.bold(line(head)),
    c.dim("─".repeat(widths.reduce((sum, w) => sum + w + 2, -2))),
    ...table.map((t) => (t[2] === "js" ? c.yellow(line(t)) : line(t))),
    ...(notes.length > 0 ? ["", ...notes.map((n) => c.dim(n))] : []),
  ].join("\n");
}
