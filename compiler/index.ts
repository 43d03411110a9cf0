// The compiler's public API: usable in Node and in browsers (no Node-only imports).
export { check, parse, type CheckResult } from "./check.js";
export { compile, type CompileOptions, type CompileResult, type Compiled } from "./compile.js";
export {
  diagnosticTable,
  formatShape,
  type Diagnostic,
  type DiagnosticCode,
  type Severity,
} from "./diagnostics.js";
export type { IRNode, ModelIR, CriterionTerm, TrainConfig } from "./ir.js";
export { layers, layerList, criterionList } from "./catalog/index.js";
export { exportOnnx } from "./export/onnx.js";
export { importOnnx, type ImportProblem, type ImportResult } from "./import/onnx.js";
export { exportTorch, type TorchExportOptions } from "./export/torch.js";
