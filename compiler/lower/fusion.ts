// Fusion: which activations run inside the output loop of the convolution or Linear before them,
// and why the others next to one do not.
import { layers } from "../catalog/index.js";
import type { IRNode, ModelIR } from "../ir.js";
import type { Activation } from "../ops.js";

/** Layers an elementwise activation can be fused into (bias + activation in their output loop). */
const fusesActivation = new Set(["SpatialConvolution", "TemporalConvolution", "Linear"]);

export interface Fusion {
  /** By producer node id: the activation fused into its output loop, and that layer's name. */
  epilogues: Map<number, { act: Activation; layer: string }>;
  /** The activation nodes so fused: they get no steps of their own. */
  fused: Set<number>;
  /** Activations right after a convolution or Linear that could not be fused, and why. */
  unfused: { layer: string; reason: string }[];
}

/**
 * An activation fuses into the layer that makes its input when that layer can take an epilogue
 * and its output feeds nothing else (not another layer, not a model output). An activation whose
 * derivative reads its input makes that layer keep the value before it (lowering.ts).
 */
export function chooseFusion(model: ModelIR, consumers: ReadonlyMap<number, IRNode[]>): Fusion {
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const isOutput = new Set(model.outputs.map((o) => o.node));
  const fusion: Fusion = { epilogues: new Map(), fused: new Set(), unfused: [] };
  for (const n of model.nodes) {
    const rule = layers.get(n.op)?.lowering;
    const producer = byId.get(n.inputs[0] ?? -1);
    if (!rule?.activation || !producer || !fusesActivation.has(producer.op)) continue;
    const act = rule.activation(n.attrs);
    const users = consumers.get(producer.id)!.length;
    const reason = isOutput.has(producer.id)
      ? "that layer's output is a model output"
      : users > 1
        ? `that layer's output is used by ${users} layers`
        : undefined;
    if (reason) {
      const into = `${producer.op} '${producer.name}'`;
      fusion.unfused.push({ layer: n.name, reason: `not fused into ${into}: ${reason}` });
      continue;
    }
    fusion.epilogues.set(producer.id, { act, layer: n.name });
    fusion.fused.add(n.id);
  }
  return fusion;
}
