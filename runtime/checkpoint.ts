// A model's training checkpoint: one safetensors file holding the weights (PyTorch names), the
// optimizer's buffers (`optimizer.<param>.<slot>`), and in `__metadata__` the optimizer's
// settings, step count and learning rate and the dropout stream, with whatever the caller adds.
import type { CheckpointExtra } from "./api-types.js";
import { checkKeys, describeValue, isRecord, typedArrayName } from "./arguments.js";
import { DropoutSeeds, type DropoutState } from "./dropout.js";
import { NetcError } from "./errors.js";
import type { OptimizerSettings } from "./optimizers.js";
import { Rng } from "./rng.js";
import {
  decodeSafetensorsFile,
  encodeSafetensors,
  loadInto,
  type NamedTensor,
  type StoredTensor,
} from "./safetensors.js";

/** The metadata key of what the model itself keeps; the caller's keys may not take it. */
const KEY = "netc.checkpoint";
const VERSION = 1;
/** Keys `save()` writes too: a checkpoint is a weights file with more in it. */
const RESERVED = new Set([KEY, "format", "producer", "model"]);
/** The optimizer's buffers are named `optimizer.<parameter>.<slot>` (`exp_avg`, ...). */
export const OPTIMIZER_PREFIX = "optimizer.";

/** A tensor's name and shape: what a checkpoint must hold for it. */
type TensorShape = Pick<NamedTensor, "name" | "shape">;

/** What the model puts in and takes back. */
export interface ModelTrainingState {
  model: string;
  /** Parameters and buffers, as `save()` writes them. */
  weights: NamedTensor[];
  /** The optimizer's buffers, one tensor per trainable parameter and slot. */
  slots: NamedTensor[];
  settings: OptimizerSettings;
  learningRate: number;
  step: number;
  dropout: DropoutState;
}

/** The settings that make two optimizers the same: all but the learning rate, which moves. */
function describeSettings(settings: OptimizerSettings): string {
  const args = Object.entries(settings)
    .filter(([key]) => key !== "name" && key !== "lr")
    .map(([key, value]) => `${key}=${String(value)}`);
  return `${settings.name}(${args.join(", ")})`;
}

export function encodeCheckpoint(
  state: ModelTrainingState,
  extra: CheckpointExtra = {},
): Uint8Array {
  checkExtra(extra, new Set([...state.weights, ...state.slots].map((t) => t.name)));
  const metadata = extra.metadata ?? {};
  const record = {
    version: VERSION,
    optimizer: describeSettings(state.settings),
    learningRate: state.learningRate,
    step: state.step,
    dropout: state.dropout,
  };
  return encodeSafetensors([...state.weights, ...state.slots, ...(extra.tensors ?? [])], {
    ...metadata,
    format: "pt",
    producer: "netc",
    model: state.model,
    [KEY]: JSON.stringify(record),
  });
}

/** The caller's part, which may come from anyone: anything off is a NetcError naming it. */
function checkExtra(extra: unknown, own: ReadonlySet<string>): asserts extra is CheckpointExtra {
  if (!isRecord(extra)) {
    throw new NetcError(
      `saveCheckpoint takes { metadata?, tensors? }, got ${describeValue(extra)}`,
    );
  }
  checkKeys(extra, ["metadata", "tensors"], "saveCheckpoint's extra");
  const { metadata = {}, tensors = [] } = extra;
  if (!isRecord(metadata)) {
    throw new NetcError(`checkpoint metadata must be an object, got ${describeValue(metadata)}`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (RESERVED.has(key)) throw new NetcError(`checkpoint metadata '${key}' is netc's own`);
    if (typeof value !== "string") {
      throw new NetcError(
        `checkpoint metadata '${key}' must be a string, got ${describeValue(value)}`,
      );
    }
  }
  if (!Array.isArray(tensors)) {
    throw new NetcError(`checkpoint tensors must be an array, got ${describeValue(tensors)}`);
  }
  const names = new Set<string>();
  for (const tensor of tensors as unknown[]) {
    const form = "a checkpoint tensor is { name, shape, data: Float32Array }";
    if (!isRecord(tensor)) throw new NetcError(`${form}, got ${describeValue(tensor)}`);
    const { name, shape, data } = tensor;
    const dims = Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
    if (typeof name !== "string" || !dims || typedArrayName(data) !== "Float32Array") {
      throw new NetcError(`${form}, got ${describeValue(tensor)}`);
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if ((data as Float32Array).length !== size) {
      throw new NetcError(
        `checkpoint tensor '${name}' has ${(data as Float32Array).length} values for shape [${(shape as number[]).join(", ")}]`,
      );
    }
    if (own.has(name) || name.startsWith(OPTIMIZER_PREFIX) || name === "__metadata__") {
      throw new NetcError(`checkpoint tensor '${name}' would take the name of the model's own`);
    }
    if (names.has(name)) throw new NetcError(`checkpoint tensor '${name}' is given twice`);
    names.add(name);
  }
}

/** What a checkpoint restores: the values to copy in, all checked already. */
export interface DecodedCheckpoint {
  /** In the order of `expected.weights`, then `expected.slots`. */
  weights: Float32Array[];
  slots: Float32Array[];
  learningRate: number;
  step: number;
  dropout: DropoutState;
  extra: Required<CheckpointExtra>;
}

/**
 * Reads a checkpoint of the model `expected` describes (its names and shapes; its optimizer's
 * settings), refusing with a NetcError that names `source` a file that is malformed, is no
 * checkpoint, is of another model or optimizer, or holds values that are not finite.
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  source: string,
  expected: {
    model: string;
    weights: readonly TensorShape[];
    slots: readonly TensorShape[];
    settings: OptimizerSettings;
  },
): DecodedCheckpoint {
  const { tensors, metadata } = decodeSafetensorsFile(bytes, source);
  const fail = (reason: string): never => {
    throw new NetcError(`${source}: ${reason}`);
  };
  const text = metadata[KEY];
  if (text === undefined) {
    fail(
      "not a netc checkpoint (its metadata has no netc.checkpoint): weights alone? load them as weights",
    );
  }
  const record = parseRecord(text!, fail);
  if (metadata["model"] !== expected.model) {
    fail(`the checkpoint is of model ${describeValue(metadata["model"])}, not ${expected.model}`);
  }
  const optimizer = describeSettings(expected.settings);
  if (record.optimizer !== optimizer) {
    fail(
      `the checkpoint was trained with ${record.optimizer}, but the model trains with ${optimizer}: resume with the same optimizer`,
    );
  }
  // The model's own tensors are checked as a weights file (names, shapes, finite values); the
  // rest are the caller's.
  const own = [...expected.weights, ...expected.slots];
  const ownNames = new Set(own.map((t) => t.name));
  const ours = new Map<string, StoredTensor>();
  const extraTensors: NamedTensor[] = [];
  for (const [name, tensor] of tensors) {
    if (ownNames.has(name) || name.startsWith(OPTIMIZER_PREFIX)) ours.set(name, tensor);
    else extraTensors.push({ name, shape: tensor.shape, data: tensor.data });
  }
  const targets = own.map((t) => ({
    name: t.name,
    shape: t.shape,
    data: new Float32Array(t.shape.reduce((a, b) => a * b, 1)),
  }));
  loadInto(targets, ours, source);
  const extraMetadata = Object.fromEntries(
    Object.entries(metadata).filter(([key]) => !RESERVED.has(key)),
  );
  const values = targets.map((t) => t.data);
  return {
    weights: values.slice(0, expected.weights.length),
    slots: values.slice(expected.weights.length),
    learningRate: record.learningRate,
    step: record.step,
    dropout: record.dropout,
    extra: { metadata: extraMetadata, tensors: extraTensors },
  };
}

interface CheckpointRecord {
  optimizer: string;
  learningRate: number;
  step: number;
  dropout: DropoutState;
}

/**
 * The JSON object a metadata entry holds, of the version this netc writes: a file from a later
 * one is refused rather than half understood.
 */
export function parseVersioned(
  text: string,
  key: string,
  version: number,
  fail: (reason: string) => never,
): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail(`its ${key} metadata is not JSON`);
  }
  if (!isRecord(value)) return fail(`its ${key} metadata is not a JSON object`);
  if (value["version"] !== version) {
    return fail(
      `its ${key} metadata is of version ${describeValue(value["version"])}; this netc reads version ${version}`,
    );
  }
  return value;
}

function parseRecord(text: string, fail: (reason: string) => never): CheckpointRecord {
  const value = parseVersioned(text, KEY, VERSION, fail);
  const { optimizer, learningRate, step, dropout } = value;
  if (typeof optimizer !== "string") return fail(`its ${KEY} metadata names no optimizer`);
  if (typeof learningRate !== "number" || !Number.isFinite(learningRate) || learningRate < 0) {
    return fail(`its learning rate ${describeValue(learningRate)} is not a number ≥ 0`);
  }
  if (!Number.isSafeInteger(step) || (step as number) < 0) {
    return fail(`its step count ${describeValue(step)} is not an integer ≥ 0`);
  }
  if (!isRecord(dropout) || !isRecord(dropout["stream"])) {
    return fail(`its ${KEY} metadata has no dropout stream`);
  }
  try {
    // A stream restored into a scratch generator: the model's own is set only once all is read.
    new DropoutSeeds(new Rng(0)).restore(dropout as unknown as DropoutState);
  } catch (error) {
    return fail(`its dropout stream is malformed: ${(error as Error).message}`);
  }
  return {
    optimizer,
    learningRate,
    step: step as number,
    dropout: dropout as unknown as DropoutState,
  };
}
