// The runtime's public API (`netc/runtime`): what compiled modules import, and their types.
export { instantiate } from "./model.js";
export { NetcError } from "./errors.js";
export { scheduledLearningRate } from "./schedules.js";
export type {
  BackendName,
  DropoutDraws,
  Input,
  KernelFactory,
  Layout,
  LayoutTensor,
  LoadReport,
  Model,
  ModelOptions,
  ModelTypes,
  OptimizerConfig,
  OptimizerName,
  ScheduleArgs,
  ScheduleConfig,
  ScheduleName,
  Steps,
  Target,
  TensorView,
  TrainConfig,
  Values,
} from "./api-types.js";
