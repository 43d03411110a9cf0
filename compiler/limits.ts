// The static budgets the checker enforces, so that what it accepts can be compiled and run.

/**
 * Layers in one model, every block and repeat expanded. Far beyond real networks (a ResNet-152
 * has about 500); checking takes some 60 µs a layer and compiling some 200, so this bounds both.
 */
export const MAX_LAYERS = 100_000;

/**
 * Blocks inlined inside one another. Each level's layers are named after the whole path of
 * uses (`0.0.0.weight`), so a deep chain costs its depth squared.
 */
export const MAX_BLOCK_DEPTH = 1_000;

/** Bytes of one float32 value: the precision models are trained in. */
export const BYTES_PER_VALUE = 4;

/**
 * The most memory a model may need: WebAssembly's 32-bit address space (4 GiB), which also
 * bounds the JavaScript kernels' one Float32Array arena.
 */
export const MAX_MODEL_BYTES = 2 ** 32;

/** Values in one tensor (per sample for activations): as many as fill the whole memory. */
export const MAX_TENSOR_ELEMENTS = MAX_MODEL_BYTES / BYTES_PER_VALUE;
