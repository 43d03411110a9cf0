// Matches a data set to a compiled model: which of the data's targets feeds each criterion term.
import type { Layout } from "./api-types.js";
import { checkDataset, type ModelExpectation } from "./data/check-dataset.js";
import type { Dataset } from "./data/dataset.js";
import { NetcError } from "./errors.js";

/** The model's target `name` (an output's name) is the data's `dataset.targets[index]`. */
export interface TargetBinding {
  name: string;
  index: number;
}

/**
 * What a one-input model takes: its input shape and, per criterion term, the target's kind,
 * shape and class count. Data readers shape what they read by it; checkDataset holds data to it.
 */
export function expectationOf(layout: Layout): ModelExpectation {
  const input = layout.inputs[0];
  if (!input || layout.inputs.length > 1) {
    const names = layout.inputs.map((i) => `${i.name} [${i.shape.join(", ")}]`).join(", ");
    throw new NetcError(
      `model ${layout.model} has inputs ${names}; netc's data sets feed one input`,
    );
  }
  return {
    model: layout.model,
    inputShape: input.shape,
    criterion: layout.targets.map((t) => {
      const output = layout.outputs.find((o) => o.name === t.name);
      const classes = t.dtype === "i32" ? (t.classes ?? output?.shape[0]) : undefined;
      const targetKind = t.dtype === "i32" ? "classes" : "values";
      const { criterion, name, shape, ignore } = t;
      return { criterion, output: name, target: shape, targetKind, classes, ignore };
    }),
  };
}

/**
 * Checks that `dataset` fits the model (input shape, target kinds and shapes, class indices in
 * range), throwing a NetcError that names the mismatch; returns where each target comes from.
 */
export function bindData(layout: Layout, dataset: Dataset): TargetBinding[] {
  const indices = checkDataset(dataset, expectationOf(layout));
  return layout.targets.map((t, i) => ({ name: t.name, index: indices[i]! }));
}
