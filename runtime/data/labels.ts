// Classes named by the data (folder names, label strings): sorted into indices, and encoded as the
// model's criterion takes them (class indices, 0/1 for a binary output, or one-hot values).
import { NetcError } from "../errors.js";
import type { ExpectedTarget, ModelExpectation } from "./check-dataset.js";
import { formatShape, sizeOf, type Target } from "./dataset.js";

/** Python's `sorted` on str (code point order), as torchvision and Keras sort class folders. */
export function sortNames(names: Iterable<string>): string[] {
  const points = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
  return [...names]
    .map((name) => ({ name, key: points(name) }))
    .sort((a, b) => {
      for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) {
        if (a.key[i] !== b.key[i]) return a.key[i]! - b.key[i]!;
      }
      return a.key.length - b.key.length;
    })
    .map((entry) => entry.name);
}

/** Each value's index among the sorted distinct values. */
export function indexNames(values: readonly string[]): { names: string[]; indices: Int32Array } {
  const names = sortNames(new Set(values));
  const index = new Map(names.map((name, i) => [name, i]));
  return { names, indices: Int32Array.from(values, (v) => index.get(v)!) };
}

/** `species from `, naming the output a note is about when the model has several; else nothing. */
export function targetPrefix(model: ModelExpectation, term: ExpectedTarget): string {
  return model.criterion.length > 1 ? `${term.output} from ` : "";
}

/** `0 cat, 1 dog`, the first 20 of many: how a report lists classes. */
export function listClasses(names: readonly string[]): string {
  const shown = names.slice(0, 20).map((name, i) => `${i} ${name}`);
  return shown.join(", ") + (names.length > 20 ? `, ... (${names.length} in all)` : "");
}

/**
 * The target for class `indices` of the classes `names`, as `term` takes it: class indices; for
 * values of shape `[1]` (BCE's binary output) the two classes as 0 and 1; for values of shape
 * `[k]`, one-hot vectors of the k classes. `what` names the labels in errors (`the folders of
 * pets/`, `column species of iris.csv`).
 */
export function classTarget(
  indices: Int32Array,
  names: readonly string[],
  term: ExpectedTarget,
  model: string,
  what: string,
): Target {
  const k = names.length;
  const base = { output: term.output, classes: k, classNames: names };
  const takes = `model ${model}'s criterion ${term.criterion}(${term.output}) takes`;
  if (term.targetKind === "classes") {
    if (term.target.length > 0) {
      throw new NetcError(
        `${what} give one class per sample, but ${takes} a class per element of ${formatShape(term.target)}`,
      );
    }
    return { ...base, data: indices, shape: [] };
  }
  const size = sizeOf(term.target);
  const values = new Float32Array(indices.length * size);
  if (size === 1 && k === 2) {
    for (let i = 0; i < indices.length; i++) values[i] = indices[i]!;
    return { ...base, data: values, shape: [...term.target] };
  }
  if (term.target.length === 1 && size === k) {
    for (let i = 0; i < indices.length; i++) values[i * k + indices[i]!] = 1;
    return { ...base, data: values, shape: [...term.target] };
  }
  const fits = size === 1 ? "two classes (as 0 and 1)" : `${size} classes (one-hot)`;
  throw new NetcError(
    `${what} name ${k} classes (${listClasses(names)}), but ${takes} values of shape ${formatShape(term.target)}: ${fits}`,
  );
}
