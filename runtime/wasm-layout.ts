// Where a compiled WASM module and the runtime meet in memory: the control words at the start
// of memory and the optimizer's hyperparameter slots. The compiler emits code against these and
// the runtime writes them; one definition for both.

/** Byte addresses of the first 256 bytes of memory (the barrier words on their own lines). */
export const CONTROL = {
  barrierCount: 0,
  barrierGeneration: 64,
  /** Three i32 words: a sequence number, the command, the sample count. */
  command: 128,
  /** i32: 1 while training (batch statistics, dropout masks), 0 in evaluation. */
  training: 160,
  /** u32: the seed of the current training pass's dropout masks (runtime/dropout.ts). */
  dropoutSeed: 164,
  optimizer: 192,
  end: 256,
} as const;

/** Slot indices (4 bytes each) from CONTROL.optimizer; f32 unless noted. */
export const OPTIMIZER_SLOTS = {
  kind: 0, // i32: 1 SGD, 2 Adam
  lr: 1,
  momentum: 2,
  weightDecay: 3,
  nesterov: 4, // i32: all ones or zero, a lane mask
  beta1: 5,
  beta2: 6,
  eps: 7,
  stepSize: 8,
  correction2: 9,
} as const;

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
