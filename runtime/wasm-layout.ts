// Where a compiled WASM module and the runtime meet in memory: the control words at the start
// of memory, the optimizer's hyperparameter slots and its update rules. The compiler emits code
// against these and the runtime writes them; one definition for both.

/** Byte addresses of the first 320 bytes of memory (the barrier words on their own lines). */
export const CONTROL = {
  barrierCount: 0,
  barrierGeneration: 64,
  /** Three i32 words: a sequence number, the command, the sample count. */
  command: 128,
  /** i32: 1 while training (batch statistics, dropout masks), 0 in evaluation. */
  training: 160,
  /** u32: the seed of the current training pass's dropout masks (runtime/dropout.ts). */
  dropoutSeed: 164,
  /** The optimizer's slots, OPTIMIZER_SLOTS. */
  optimizer: 192,
  end: 320,
} as const;

/**
 * Slot indices (4 bytes each) from CONTROL.optimizer; f32 unless noted. The runtime writes the
 * hyperparameters once and the per-step scalars (runtime/optimizers.ts `stepScalars`) before
 * each step; `1 − β` and the like are computed in double precision there, as PyTorch does.
 */
export const OPTIMIZER_SLOTS = {
  rule: 0, // i32: the index in UPDATE_RULES
  state: 1, // i32: the byte address of the state buffers, which the runtime places
  lr: 2,
  momentum: 3,
  weightDecay: 4,
  nesterov: 5, // i32: all ones or zero, a lane mask
  beta1: 6,
  oneMinusBeta1: 7,
  beta2: 8,
  oneMinusBeta2: 9,
  eps: 10,
  stepSize: 11,
  correction2: 12,
  decay: 13,
  alpha: 14,
  oneMinusAlpha: 15,
  /** The largest gradient norm; 0 turns clipping off. */
  clipNorm: 16,
  /** The norm's clipping coefficient, which thread 0 writes for the others during a step. */
  clipCoefficient: 17,
} as const;

/**
 * The update's rules, by index: one loop each, so that no loop tests a setting per parameter.
 * The state buffers of each are those of runtime/optimizers.ts `stateNames`, in that order.
 */
export const UPDATE_RULES = [
  "sgd",
  "sgdMomentum",
  "adam", // and AdamW, whose decay multiplies the parameters first
  "rmsprop",
  "rmspropMomentum",
  "rmspropCentered",
  "rmspropCenteredMomentum",
  "adagrad",
] as const;

export type UpdateRule = (typeof UPDATE_RULES)[number];

/** The commands a runtime posts to its worker threads, by index; the rest are module exports. */
export const COMMANDS = [
  "exit",
  "forward",
  "loss",
  "backward",
  "backward_params",
  "update",
  "train_step",
] as const;
