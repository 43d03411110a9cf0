// What a model is for, read from its layout: it decides the metrics and the data netc offers it.
import type { Layout, LayoutTensor } from "./api-types.js";

export type Task =
  /**
   * One class per sample: accuracy and a confusion matrix; `ignore`, the criterion's ignored
   * label, left out of them.
   */
  | { kind: "classification"; output: string; classes: number; ignore?: number }
  /** One class per pixel: pixel accuracy, mean IoU and a confusion matrix, void pixels left out. */
  | { kind: "segmentation"; output: string; classes: number; pixels: number; ignore?: number }
  /**
   * Outputs `boxes` [4, H, W] and `objectness` [1, H, W]: objectness accuracy and box error.
   * `threshold`: where objectness says "object": 0.5 on probabilities, 0 on the logits that
   * BCEWithLogits judges.
   */
  | { kind: "detection"; cells: number; threshold: number }
  /** MSE towards the input itself (an autoencoder): mean squared error. */
  | { kind: "reconstruction"; output: string };

const sameShape = (a: readonly number[], b: readonly number[]) => a.join() === b.join();

/** The criteria that make a model whose target is its input an autoencoder. */
const reconstructions = new Set(["MSE", "L1", "SmoothL1"]);

/** The task of a one-input model, or undefined when its criterion fits none of the above. */
export function taskOf(layout: Layout): Task | undefined {
  if (layout.inputs.length !== 1) return undefined;
  const input = layout.inputs[0]!;
  const outputOf = (t: LayoutTensor) => layout.outputs.find((o) => o.name === t.name);
  if (layout.targets.length === 2) {
    const boxes = layout.targets.find((t) => t.name === "boxes");
    const objectness = layout.targets.find((t) => t.name === "objectness");
    if (!boxes || !objectness || boxes.dtype !== "f32" || objectness.dtype !== "f32") {
      return undefined;
    }
    const [b, ...grid] = boxes.shape;
    const [o, ...objectGrid] = objectness.shape;
    if (b !== 4 || o !== 1 || grid.length !== 2 || !sameShape(grid, objectGrid)) return undefined;
    const threshold = objectness.criterion === "BCEWithLogits" ? 0 : 0.5;
    return { kind: "detection", cells: grid[0]! * grid[1]!, threshold };
  }
  if (layout.targets.length !== 1) return undefined;
  const target = layout.targets[0]!;
  const output = outputOf(target);
  if (!output) return undefined;
  if (target.dtype === "i32") {
    const classes = target.classes ?? output.shape[0]!;
    const ignore = target.ignore === undefined ? {} : { ignore: target.ignore };
    if (target.shape.length === 0) {
      return { kind: "classification", output: output.name, classes, ...ignore };
    }
    const pixels = target.shape.reduce((a, b) => a * b, 1);
    return { kind: "segmentation", output: output.name, classes, pixels, ...ignore };
  }
  if (reconstructions.has(target.criterion) && sameShape(target.shape, input.shape)) {
    return { kind: "reconstruction", output: output.name };
  }
  return undefined;
}
