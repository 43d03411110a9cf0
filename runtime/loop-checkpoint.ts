// The training loop's own part of a checkpoint: where the run is (epoch, step), what it was run
// with (seed, batch, data size, monitoring, augmentation), the monitor's state, each epoch's
// scores, and the best weights when they are kept (tensors `best.<name>`). The model's part
// (weights, optimizer, dropout stream) is `Model.saveCheckpoint`'s.
import type { Model, TensorView } from "./api-types.js";
import { describeValue, isRecord } from "./arguments.js";
import type { MonitorOptions, MonitorState } from "./early-stopping.js";
import { NetcError } from "./errors.js";
import type { Evaluation } from "./evaluate.js";
import { parseVersioned } from "./checkpoint.js";
import { decodeSafetensorsFile } from "./safetensors.js";

const KEY = "netc.loop";
const VERSION = 1;
const BEST_PREFIX = "best.";

/** An epoch's numbers without the confusion matrix: what the end-of-run curve draws. */
export type EpochScores = {
  epoch: number;
  train: Omit<Evaluation, "confusion">;
  test: Omit<Evaluation, "confusion">;
};

/** What a run must keep the same for a resumed run to go on as the uninterrupted one. */
export interface RunSettings {
  seed: number;
  batch: number;
  /** Training samples: the shuffles are permutations of them. */
  trainCount: number;
  monitor: MonitorOptions | null;
  /** The augmentation, described (the `train` block's `augment`). */
  augment: string;
}

export interface LoopState {
  settings: RunSettings;
  /** Epochs done. */
  epoch: number;
  /** Training steps done. */
  step: number;
  /** Early stopping ended the run after `epoch`. */
  stopped: boolean;
  monitor: MonitorState | null;
  history: EpochScores[];
}

/** The checkpoint's bytes: the model's own state and the loop's. */
export function saveLoopCheckpoint(
  model: Model,
  state: LoopState,
  best: { names: readonly TensorView[]; values: readonly Float32Array[] } | undefined,
): Uint8Array {
  const tensors = best
    ? best.names.map((t, i) => ({
        name: BEST_PREFIX + t.name,
        shape: t.shape,
        data: best.values[i]!,
      }))
    : [];
  return model.saveCheckpoint({
    metadata: { [KEY]: JSON.stringify({ version: VERSION, ...state }) },
    tensors,
  });
}

const describeSettings = (s: RunSettings) => ({
  seed: String(s.seed),
  batch: String(s.batch),
  "training samples": String(s.trainCount),
  monitoring: s.monitor
    ? `${s.monitor.monitor}, min delta ${s.monitor.minDelta}, patience ${s.monitor.patience ?? "none"}${s.monitor.keepBest ? ", keeping the best weights" : ""}`
    : "none",
  augmentation: s.augment || "none",
});

/**
 * Restores a checkpoint into `model` (of which `weights` are the parameters and buffers) and
 * returns the loop's state and best weights. Everything is checked before the model changes:
 * a file of another run's settings, model or optimizer, malformed or truncated, is a NetcError
 * naming `source`.
 */
export function loadLoopCheckpoint(
  model: Model,
  weights: readonly TensorView[],
  bytes: Uint8Array,
  source: string,
  settings: RunSettings,
): { state: LoopState; best: Float32Array[] | undefined } {
  const fail = (reason: string): never => {
    throw new NetcError(`${source}: ${reason}`);
  };
  const { tensors, metadata } = decodeSafetensorsFile(bytes, source);
  const text = metadata[KEY];
  if (text === undefined) {
    fail("not a checkpoint of netc train (its metadata has no netc.loop)");
  }
  const state = parseState(text!, fail);
  const saved = describeSettings(state.settings);
  const wanted = describeSettings(settings);
  for (const key of Object.keys(wanted) as (keyof typeof wanted)[]) {
    if (saved[key] !== wanted[key]) {
      fail(
        `the checkpoint was trained with ${key} ${saved[key]}, this run has ${wanted[key]}: resume with the same settings`,
      );
    }
  }
  let best: Float32Array[] | undefined;
  if (settings.monitor?.keepBest && state.monitor?.best !== null) {
    best = weights.map((w) => {
      const stored = tensors.get(BEST_PREFIX + w.name);
      if (!stored || stored.shape.join() !== w.shape.join()) {
        return fail(`the best weights' ${w.name} is missing or of another shape`);
      }
      if (!stored.data.every(Number.isFinite)) {
        return fail(`the best weights' ${w.name} holds values that are not finite`);
      }
      return stored.data;
    });
  }
  const extra = model.loadCheckpoint(bytes, source);
  const unknown = extra.tensors.find((t) => !(best && t.name.startsWith(BEST_PREFIX)));
  if (unknown) fail(`tensor '${unknown.name}' belongs to neither the model nor the loop`);
  return { state, best };
}

const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;

function parseState(text: string, fail: (reason: string) => never): LoopState {
  const value = parseVersioned(text, KEY, VERSION, fail);
  const { settings, epoch, step, stopped, monitor, history } = value;
  const ok =
    isRecord(settings) &&
    count(settings["seed"]) &&
    count(settings["batch"]) &&
    count(settings["trainCount"]) &&
    typeof settings["augment"] === "string" &&
    (settings["monitor"] === null || isRecord(settings["monitor"])) &&
    count(epoch) &&
    count(step) &&
    typeof stopped === "boolean" &&
    (monitor === null || isRecord(monitor)) &&
    Array.isArray(history) &&
    history.length === epoch;
  if (!ok) return fail(`its ${KEY} metadata is malformed: ${describeValue(text.slice(0, 200))}`);
  return value as unknown as LoopState;
}
