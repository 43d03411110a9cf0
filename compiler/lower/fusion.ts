// Fusion: which activations run inside the output loop of the convolution or Linear before them.
import { layers } from "../catalog/index.js";
import type { IRNode, ModelIR } from "../ir.js";
import type { Activation } from "../ops.js";

/** Layers an elementwise activation can be fused into (bias + activation in their output loop). */
const fusesActivation = new Set(["SpatialConvolution", "Linear"]);

export interface Fusion {
  /** By producer node id: the activation fused into its output loop. */
  epilogues: Map<number, Activation>;
  /** The activation nodes so fused: they get no steps of their own. */
  fused: Set<number>;
}

/**
 * An activation fuses into the layer that makes its input when that layer can take an epilogue
 * and its output feeds nothing else (not another layer, not a model output).
 */
export function chooseFusion(model: ModelIR, consumers: ReadonlyMap<number, IRNode[]>): Fusion {
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const isOutput = new Set(model.outputs.map((o) => o.node));
  const epilogues = new Map<number, Activation>();
  const fused = new Set<number>();
  for (const n of model.nodes) {
    const rule = layers.get(n.op)?.lowering;
    const producer = byId.get(n.inputs[0] ?? -1);
    if (!rule?.epilogue || !producer || !fusesActivation.has(producer.op)) continue;
    if (
      consumers.get(producer.id)!.length !== 1 ||
      isOutput.has(producer.id) ||
      epilogues.has(producer.id)
    )
      continue;
    epilogues.set(producer.id, rule.epilogue(n.attrs));
    fused.add(n.id);
  }
  return { epilogues, fused };
}
