// The one table of diagnostics: code, severity, summary and message template of each.
import type { Span } from "../grammar/ast.js";
import { MAX_BRACKET_DEPTH, MAX_EXPRESSION_DEPTH } from "../grammar/nesting.js";
import { MAX_BLOCK_DEPTH, MAX_LAYERS, MAX_MODEL_BYTES, MAX_TENSOR_ELEMENTS } from "./limits.js";
import { formatBytes, formatCount } from "./units.js";

export type Severity = "error" | "warning";

export interface RelatedInfo {
  message: string;
  range: Span;
}

/** One text replacement; an insertion has an empty range. */
export interface TextEdit {
  range: Span;
  newText: string;
}

/** A change that repairs the problem, when the checker knows it (offered as an editor quick fix). */
export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  range: Span;
  related?: RelatedInfo[];
  fixes?: Fix[];
}

interface Entry<P> {
  severity: Severity;
  /** One line for the reference docs. */
  summary: string;
  message: (p: P) => string;
}

function entry<P>(severity: Severity, summary: string, message: (p: P) => string): Entry<P> {
  return { severity, summary, message };
}

const didYouMean = (s?: string) => (s ? `; did you mean '${s}'?` : "");

/** A count, or past the safe integers (where one would be inexact) a bound of it. */
const describeCount = (n: number) =>
  Number.isSafeInteger(n) && n < Number.MAX_SAFE_INTEGER
    ? formatCount(n)
    : `more than ${formatCount(Number.MAX_SAFE_INTEGER - 1)}`;

export const diagnosticTable = {
  // Syntax: the grammar words these (grammar/index.ts).
  "invalid-character": entry(
    "error",
    "A character that no token starts with.",
    (p: { message: string }) => p.message,
  ),
  "syntax-error": entry(
    "error",
    "The text does not follow the grammar.",
    (p: { message: string }) => p.message,
  ),
  "nesting-too-deep": entry(
    "error",
    `Brackets, operators or blocks nested beyond the limits: ${MAX_BRACKET_DEPTH} brackets, ${MAX_EXPRESSION_DEPTH} levels of one expression, ${formatCount(MAX_BLOCK_DEPTH)} blocks.`,
    (p: { message: string }) => p.message,
  ),

  // Declarations and names
  "duplicate-declaration": entry(
    "error",
    "Two models or blocks share a name.",
    (p: { kind: string; name: string }) => `${p.kind} '${p.name}' is already declared`,
  ),
  "duplicate-name": entry(
    "error",
    "A value, input or block parameter is bound twice in one body.",
    (p: { name: string }) => `'${p.name}' is already defined in this scope`,
  ),
  "duplicate-label": entry(
    "error",
    "Two layers of one body carry the same label (their parameters would collide).",
    (p: { label: string }) =>
      `label '${p.label}' is already used in this scope; parameter names would collide`,
  ),
  "unknown-layer": entry(
    "error",
    "A name used as a layer is neither a catalog layer nor a block.",
    (p: { name: string; suggestion?: string }) =>
      `unknown layer '${p.name}'${didYouMean(p.suggestion)}`,
  ),
  "unknown-name": entry(
    "error",
    "A name used as a value (an input, a binding, a block parameter) that nothing defines.",
    (p: { name: string; suggestion?: string }) =>
      `unknown value '${p.name}'${didYouMean(p.suggestion)}`,
  ),
  "not-a-layer": entry(
    "error",
    "A value, or a number, stands where a layer is expected.",
    (p: { what: string }) => `${p.what} is not a layer`,
  ),
  "not-a-value": entry(
    "error",
    "A value is expected (a model input, a binding or a chain from one), but a layer or number stands there.",
    (p: { what: string }) => `expected a value (an input or a bound name), but found ${p.what}`,
  ),
  "label-not-allowed": entry(
    "error",
    "A label stands on something other than a layer.",
    (p: { label: string }) => `label '${p.label}' must name a layer`,
  ),
  "unused-value": entry(
    "error",
    "A bound value or model input is never used.",
    (p: { name: string; input: boolean }) =>
      p.input ? `input '${p.name}' is never used` : `'${p.name}' is computed but never used`,
  ),
  cycle: entry(
    "error",
    "Values depend on each other in a loop.",
    (p: { path: string }) => `cycle between values: ${p.path}`,
  ),
  "recursive-block": entry(
    "error",
    "A block uses itself, directly or through others.",
    (p: { path: string }) => `block recursion: ${p.path}`,
  ),
  "missing-input": entry(
    "error",
    "A model declares no `input`.",
    (p: { model: string }) =>
      `model '${p.model}' has no input; declare one like 'input x: [1, 28, 28]'`,
  ),
  "input-in-block": entry(
    "error",
    "`input` inside a block (a block's input is `in`).",
    (_: object) => `a block cannot declare inputs; its input is 'in'`,
  ),
  "block-outputs": entry(
    "error",
    "A block lists more than one output.",
    (p: { block: string }) => `block '${p.block}' must have exactly one output`,
  ),
  "empty-body": entry(
    "error",
    "A model or block with no layers.",
    (p: { kind: string; name: string }) => `${p.kind} '${p.name}' has no layers`,
  ),
  "too-many-layers": entry(
    "error",
    `A model with more than ${formatCount(MAX_LAYERS)} layers once blocks and repeats are expanded (checked before expanding them).`,
    // `what` is a block use (`block B`) or a repeat (`ReLU repeated 1,000,000 times`).
    (p: { what?: string; layers?: number }) =>
      p.what === undefined
        ? `the model has more than ${formatCount(MAX_LAYERS)} layers`
        : `${p.what} expands to ${describeCount(p.layers ?? 0)} layers, which would take the model past ${formatCount(MAX_LAYERS)}`,
  ),
  "invalid-repeat": entry(
    "error",
    "A repeat (`B * n`) of what is not a layer, block or chain, or whose count is not a positive integer.",
    (p: { detail: string }) => p.detail,
  ),
  "unused-block": entry(
    "warning",
    "A block is declared but never used (and so never shape-checked).",
    (p: { name: string }) => `block '${p.name}' is never used`,
  ),

  // Arguments and expressions
  "unknown-argument": entry(
    "error",
    "A named argument the layer does not take.",
    (p: { layer: string; name: string; suggestion?: string }) =>
      `${p.layer} has no argument '${p.name}'${didYouMean(p.suggestion)}`,
  ),
  "missing-argument": entry(
    "error",
    "A required argument is not given.",
    (p: { layer: string; names: string[]; signature: string }) => {
      const names = p.names.map((n) => `'${n}'`).join(" and ");
      return `${p.layer} needs argument${p.names.length === 1 ? "" : "s"} ${names}: ${p.signature}`;
    },
  ),
  "pytorch-arguments": entry(
    "error",
    "A layer called with the arguments of the PyTorch module of the same name (`Linear(400, 120)`).",
    (p: { layer: string; torch: string; signature: string }) =>
      `${p.layer}'s arguments are in the order of PyTorch's ${p.torch}; netc's is ${p.signature}`,
  ),
  "too-many-arguments": entry(
    "error",
    "More positional arguments than the layer takes.",
    (p: { layer: string; count: number; max: number }) =>
      `${p.layer} takes at most ${p.max} positional argument${p.max === 1 ? "" : "s"}, got ${p.count}`,
  ),
  "duplicate-argument": entry(
    "error",
    "An argument given twice.",
    (p: { name: string }) => `argument '${p.name}' is given twice`,
  ),
  "positional-after-named": entry(
    "error",
    "A positional argument after a named one.",
    (_: object) => `positional arguments must come before named ones`,
  ),
  "argument-type": entry(
    "error",
    "An argument of the wrong type.",
    (p: { name: string; expected: string; got: string }) =>
      `argument '${p.name}' must be ${p.expected}, got ${p.got}`,
  ),
  "argument-range": entry(
    "error",
    "An argument out of its allowed range.",
    (p: { name: string; value: string; bound: string }) =>
      `argument '${p.name}' is ${p.value}, but must be ${p.bound}`,
  ),
  "inexact-division": entry(
    "error",
    "Integer `/` whose result is not whole.",
    (p: { left: number; right: number }) =>
      `${p.left} / ${p.right} is not a whole number; '/' on integers must divide exactly`,
  ),
  "integer-too-large": entry(
    "error",
    "An integer, written or computed, beyond those exact in floating point (2^53 − 1).",
    (p: { what: string }) =>
      `${p.what} is beyond the integers netc computes exactly (at most ${formatCount(Number.MAX_SAFE_INTEGER)})`,
  ),
  "division-by-zero": entry(
    "error",
    "Division by zero in an expression.",
    (_: object) => `division by zero`,
  ),
  "invalid-expression": entry(
    "error",
    "An expression the context cannot use (e.g. arithmetic on a layer).",
    (p: { detail: string }) => p.detail,
  ),

  // Shapes
  "invalid-input-shape": entry(
    "error",
    "An input shape that is not a list of positive integers.",
    (p: { detail: string }) => `input shape ${p.detail}`,
  ),
  "tensor-too-large": entry(
    "error",
    `A tensor of more values than fit in memory (${formatCount(MAX_TENSOR_ELEMENTS)} float32, ${formatBytes(MAX_MODEL_BYTES)}); an activation counts one sample.`,
    (p: { what: string; shape: string; count: number; perSample: boolean }) =>
      `${p.what} ${p.shape} has ${describeCount(p.count)} values${p.perSample ? " per sample" : ""}; at most ${formatCount(MAX_TENSOR_ELEMENTS)} fit in memory (${formatBytes(MAX_MODEL_BYTES)} of float32)`,
  ),
  "model-too-large": entry(
    "error",
    `A model whose parameters and one sample's activations need more than ${formatBytes(MAX_MODEL_BYTES)} (WebAssembly's memory) as float32.`,
    (p: { model: string; params: number; activations: number }) =>
      `model '${p.model}' needs ${formatBytes(p.params + p.activations)} for its parameters (${formatBytes(p.params)}) and one sample's activations (${formatBytes(p.activations)}); at most ${formatBytes(MAX_MODEL_BYTES)} fit in memory`,
  ),
  "rank-mismatch": entry(
    "error",
    "A layer gets an input with the wrong number of dimensions.",
    (p: { layer: string; expected: string; shape: string; hint?: string }) =>
      `${p.layer} needs ${p.expected} input, got ${p.shape}${p.hint ? `; ${p.hint}` : ""}`,
  ),
  "linear-needs-vector": entry(
    "error",
    "`Linear` applied to a value with more than one dimension.",
    (p: { shape: string; features: number }) =>
      `Linear needs one vector per sample, got ${p.shape}; insert Flatten or View(${p.features}) before it`,
  ),
  "input-size-mismatch": entry(
    "error",
    "An explicit input size (`Linear(300 -> 120)`) differs from the inferred one.",
    (p: { layer: string; what: string; written: number; actual: number; shape: string }) =>
      `${p.layer} declares ${p.written} input ${p.what}, but its input ${p.shape} has ${p.actual}`,
  ),
  "kernel-too-large": entry(
    "error",
    "A convolution or pooling kernel larger than its padded input.",
    (p: { layer: string; kernel: string; shape: string; pad: string; output: string }) =>
      `${p.layer} kernel ${p.kernel} does not fit input ${p.shape} (pad ${p.pad}): output would be ${p.output}`,
  ),
  "non-positive-size": entry(
    "error",
    "A layer whose output would have a zero or negative size (a transposed convolution's padding).",
    (p: { layer: string; output: string; shape: string; pad: string }) =>
      `${p.layer} with pad ${p.pad} would produce a non-positive size ${p.output} from input ${p.shape}`,
  ),
  "view-mismatch": entry(
    "error",
    "`View` to a shape with a different element count.",
    (p: { dims: string; shape: string; count: number; target: string }) =>
      `View(${p.dims}) cannot reshape ${p.shape} (${p.count} elements) into ${p.target}`,
  ),
  "concat-mismatch": entry(
    "error",
    "`Concat` of values whose sizes differ outside the channel dimension.",
    (p: { detail: string }) => `Concat needs ${p.detail}`,
  ),
  "broadcast-mismatch": entry(
    "error",
    "`Add` or `Mul` of values whose shapes do not broadcast (aligned from the last dimension, sizes equal or 1).",
    (p: {
      layer: string;
      a: string;
      b: string;
      dim: number;
      sizeA: number;
      sizeB: number;
      ranksDiffer: boolean;
    }) =>
      `${p.layer} cannot broadcast ${p.a} with ${p.b}: dimension ${p.dim} is ${p.sizeA} against ${p.sizeB} (sizes must be equal, or one of them 1${p.ranksDiffer ? "; shapes are aligned from their last dimension" : ""})`,
  ),
  "norm-groups": entry(
    "error",
    "A group normalisation whose groups do not divide the input's channels.",
    (p: { layer: string; channels: number; groups: number; shape: string }) =>
      `${p.layer} needs channels divisible by its groups: ${p.channels} channels (input ${p.shape}) do not split into ${p.groups} groups`,
  ),
  "arity-mismatch": entry(
    "error",
    "A layer given the wrong number of input values.",
    (p: { layer: string; expected: string; got: number }) =>
      `${p.layer} takes ${p.expected}, got ${p.got}`,
  ),

  // Criterion and training
  "unknown-criterion": entry(
    "error",
    "A name in the criterion that is not a criterion.",
    (p: { name: string; suggestion?: string }) =>
      `unknown criterion '${p.name}'${didYouMean(p.suggestion)}`,
  ),
  "unknown-output": entry(
    "error",
    "A criterion names an output the model does not have.",
    (p: { name: string; model: string; outputs: string; suggestion?: string }) => {
      // `outputs` is empty for a plain stack: its one output has no name a criterion can give.
      const outputs = p.outputs ? `outputs: ${p.outputs}` : "its one output is unnamed";
      return `model '${p.model}' has no output '${p.name}' (${outputs})${didYouMean(p.suggestion)}`;
    },
  ),
  "criterion-needs-output": entry(
    "error",
    "A plain criterion on a model with several outputs.",
    (p: { criterion: string; outputs: string }) =>
      `the model has several outputs (${p.outputs}); name one: ${p.criterion}(${p.outputs.split(", ")[0]})`,
  ),
  "criterion-shape": entry(
    "error",
    "A criterion applied to an output of a shape it cannot take.",
    (p: { criterion: string; detail: string }) => `${p.criterion} ${p.detail}`,
  ),
  "invalid-criterion": entry(
    "error",
    "A criterion expression that is not a weighted sum of criteria.",
    (p: { detail: string }) => `invalid criterion: ${p.detail}`,
  ),
  "orphan-declaration": entry(
    "error",
    "A `criterion` or `train` before any model.",
    (p: { kind: string }) => `'${p.kind}' must follow the model it applies to`,
  ),
  "duplicate-declaration-for-model": entry(
    "error",
    "Two criteria or train blocks for one model.",
    (p: { kind: string; model: string }) =>
      `model '${p.model}' already has a ${p.kind === "train" ? "train block" : p.kind}`,
  ),
  "unknown-setting": entry(
    "error",
    "A `train` setting that does not exist.",
    (p: { name: string; suggestion?: string; optimizer?: boolean }) =>
      `unknown train setting '${p.name}'${
        p.optimizer
          ? "; the learning rate is an argument of the optimizer: optimizer = SGD(lr=...)"
          : didYouMean(p.suggestion)
      }`,
  ),
  "unknown-augmentation": entry(
    "error",
    "An augmentation that does not exist.",
    (p: { name: string; known: string; suggestion?: string }) =>
      `unknown augmentation '${p.name}'${didYouMean(p.suggestion) || `; the augmentations are ${p.known}`}`,
  ),
  "augment-mismatch": entry(
    "error",
    "An augmentation that does not fit the model's input.",
    (p: { detail: string }) => p.detail,
  ),
  "unknown-optimizer": entry(
    "error",
    "An optimizer that does not exist.",
    (p: { name: string; known: string; suggestion?: string }) =>
      `unknown optimizer '${p.name}'${didYouMean(p.suggestion) || `; the optimizers are ${p.known}`}`,
  ),
  "unknown-schedule": entry(
    "error",
    "A learning-rate schedule that does not exist.",
    (p: { name: string; known: string; suggestion?: string }) =>
      `unknown learning-rate schedule '${p.name}'${didYouMean(p.suggestion) || `; the schedules are ${p.known}`}`,
  ),
  "unknown-label": entry(
    "error",
    "A name in `freeze` that labels no layer or block use of the model.",
    (p: { name: string; model: string; suggestion?: string; within?: string }) =>
      p.within
        ? `'${p.name}' labels a layer inside block use '${p.within}', and freeze names the labels of model ${p.model}'s own body; did you mean '${p.within}'?`
        : `no layer of model ${p.model} is labelled '${p.name}'${didYouMean(p.suggestion) || "; freeze names labelled layers and block uses (`conv1: SpatialConvolution(...)`)"}`,
  ),
  "nothing-to-freeze": entry(
    "warning",
    "A name in `freeze` whose layers have no parameters.",
    (p: { name: string }) => `'${p.name}' has no parameters: freezing it changes nothing`,
  ),

  // Lints (`output` is the quoted output name, or "the model's output" for a plain stack's)
  "nll-without-logsoftmax": entry(
    "warning",
    "NLL on an output that does not come from LogSoftMax.",
    (p: { output: string; from: string }) =>
      `NLL expects log-probabilities, but ${p.output} comes from ${p.from} with no LogSoftMax`,
  ),
  "bce-without-sigmoid": entry(
    "warning",
    "BCE on an output that does not come from Sigmoid.",
    (p: { output: string; from: string }) =>
      `BCE expects probabilities, but ${p.output} comes from ${p.from} with no Sigmoid`,
  ),
  "softmax-before-crossentropy": entry(
    "warning",
    "CrossEntropy on an output that is already a (log-)softmax.",
    (p: { output: string; from: string }) => {
      // NLL takes log-probabilities: it can replace CrossEntropy after LogSoftMax, not SoftMax.
      const fix = p.from === "LogSoftMax" ? "use NLL or drop the LogSoftMax" : `drop the ${p.from}`;
      return `CrossEntropy applies LogSoftMax itself, but ${p.output} already comes from ${p.from}; ${fix}`;
    },
  ),
  "sigmoid-before-bcewithlogits": entry(
    "warning",
    "BCEWithLogits on an output that is already a Sigmoid's probabilities.",
    (p: { output: string; from: string }) =>
      `BCEWithLogits applies the Sigmoid itself, but ${p.output} already comes from ${p.from}: drop the ${p.from}, or use BCE`,
  ),
  "kldiv-without-logsoftmax": entry(
    "warning",
    "KLDiv on an output that does not come from LogSoftMax.",
    (p: { output: string; from: string }) =>
      `KLDiv expects log-probabilities, but ${p.output} comes from ${p.from} with no LogSoftMax`,
  ),
  "drops-input": entry(
    "warning",
    "A convolution or pooling whose windows skip the last rows or columns.",
    (p: { layer: string; shape: string; lost: string }) =>
      `${p.layer} ignores the last ${p.lost} of input ${p.shape}: the windows do not tile it`,
  ),
};

export type DiagnosticCode = keyof typeof diagnosticTable;
export type DiagnosticParams<C extends DiagnosticCode> = Parameters<
  (typeof diagnosticTable)[C]["message"]
>[0];

export function diagnostic<C extends DiagnosticCode>(
  code: C,
  range: Span,
  params: DiagnosticParams<C>,
  extra: { related?: RelatedInfo[]; fixes?: Fix[] } = {},
): Diagnostic {
  const def = diagnosticTable[code] as Entry<DiagnosticParams<C>>;
  // Every "did you mean" diagnostic is reported at the misspelt name: the fix replaces it.
  const suggestion = (params as { suggestion?: unknown }).suggestion;
  const fixes =
    typeof suggestion === "string"
      ? [{ title: `Replace with '${suggestion}'`, edits: [{ range, newText: suggestion }] }]
      : undefined;
  return {
    severity: def.severity,
    code,
    message: def.message(params),
    range,
    ...(fixes ? { fixes } : {}),
    ...extra,
  };
}

/**
 * A problem inside an inlined block that comes from the values at a use in the model (a shape,
 * an argument computed from the block's parameters): reported at that use, pointing back at
 * the place `here` inside the block.
 */
export function atUseSite(
  d: Diagnostic,
  site: { block: string; range: Span },
  here: string,
): Diagnostic {
  return {
    ...d,
    message: `${d.message} (inside block ${site.block})`,
    range: site.range,
    related: [{ message: here, range: d.range }],
  };
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
