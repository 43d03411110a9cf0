// Matches a data set to a compiled model: which of the data's targets feeds each criterion term.
import type { Layout } from "./api-types.js";
import { checkDataset } from "./data/check-dataset.js";
import type { Dataset } from "./data/dataset.js";

/** The model's target `name` (an output's name) is the data's `dataset.targets[index]`. */
export interface TargetBinding {
  name: string;
  index: number;
}

/**
 * Checks that `dataset` fits the model (input shape, target kinds and shapes, class indices in
 * range), throwing a NetcError that names the mismatch; returns where each target comes from.
 */
export function bindData(layout: Layout, dataset: Dataset): TargetBinding[] {
  const input = layout.inputs[0];
  if (!input || layout.inputs.length > 1) {
    const names = layout.inputs.map((i) => i.name).join(", ");
    throw new Error(`bindData: model ${layout.model} has inputs ${names}; data sets have one`);
  }
  const indices = checkDataset(dataset, {
    model: layout.model,
    inputShape: input.shape,
    criterion: layout.targets.map((t) => {
      const output = layout.outputs.find((o) => o.name === t.name);
      const classes = t.dtype === "i32" ? (t.classes ?? output?.shape[0]) : undefined;
      const targetKind = t.dtype === "i32" ? "classes" : "values";
      return { criterion: t.criterion, output: t.name, target: t.shape, targetKind, classes };
    }),
  });
  return layout.targets.map((t, i) => ({ name: t.name, index: indices[i]! }));
}
