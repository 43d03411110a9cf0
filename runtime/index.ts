// The runtime's public API (`netc/runtime`): what compiled modules import, and their types.
export { instantiate, type KernelFactory, type Steps } from "./model.js";
export { NetcError } from "./errors.js";
export type {
  Input,
  Layout,
  LayoutTensor,
  Model,
  ModelOptions,
  OptimizerConfig,
  Target,
  TensorView,
  TrainConfig,
  Values,
} from "./api-types.js";
