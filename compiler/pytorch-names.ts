// PyTorch's spellings of arguments, settings and modules, mapped to netc's: what a user coming
// from `torch.nn` writes first gets "did you mean" and a quick fix that translates it, instead
// of an unknown name and a missing argument for one mistake.
import type { Arg, Call, Expr } from "../grammar/ast.js";
import type { LayerDef } from "./catalog/types.js";
import type { Fix, TextEdit } from "./diagnostics.js";

/**
 * Argument names of `torch.nn` modules and `torch.optim` (and Keras's, where they differ) →
 * netc's. A name maps only where the layer has the argument it maps to.
 */
const argumentNames: ReadonlyMap<string, string> = new Map([
  ["kernel_size", "kernel"],
  ["padding", "pad"],
  ["in_channels", "in"],
  ["out_channels", "out"],
  ["in_features", "in"],
  ["out_features", "out"],
  ["num_features", "features"],
  ["num_groups", "groups"],
  ["num_channels", "channels"],
  ["elementwise_affine", "affine"],
  ["negative_slope", "slope"],
  ["output_padding", "adj"],
  ["scale_factor", "scale"],
  ["learning_rate", "lr"],
  ["pool_size", "kernel"],
  ["filters", "out"],
  ["units", "out"],
  ["use_bias", "bias"],
]);

/** `train` settings as PyTorch scripts and Keras's `fit` name them → netc's. */
export const settingAliases: ReadonlyMap<string, string> = new Map([
  ["batch_size", "batch"],
  ["num_epochs", "epochs"],
  ["n_epochs", "epochs"],
  ["max_epochs", "epochs"],
  ["scheduler", "schedule"],
  ["lr_scheduler", "schedule"],
  ["optim", "optimizer"],
]);

/** The train settings PyTorch puts in the optimizer: `lr = 0.01` is `optimizer = SGD(lr=0.01)`. */
export const optimizerSettings: ReadonlySet<string> = new Set(["lr", "learning_rate"]);

/** The other frameworks' argument names that map to one of `names` (lower-cased, as `suggest` looks them up). */
export function argumentAliases(names: readonly string[]): ReadonlyMap<string, string> {
  return new Map([...argumentNames].filter(([, ours]) => names.includes(ours)));
}

/** The netc name of a PyTorch argument name, when the layer has it. */
function netcArgument(torchName: string, def: LayerDef): string | undefined {
  const name = argumentNames.get(torchName) ?? torchName;
  return def.args.some((s) => s.name === name) ? name : undefined;
}

/**
 * Each netc layer's `torch.nn` module and the names of that module's arguments in its
 * positional order (PyTorch 1.13): what `Conv2d(1, 6, 5)` means, so it can be rewritten. An
 * argument netc does not have (`dilation`, `ceil_mode`) leaves the call untranslated.
 */
/** The first arguments of Conv2d and ConvTranspose2d. */
const convolutionArguments = ["in_channels", "out_channels", "kernel_size", "stride", "padding"];

/** BatchNorm1d's and BatchNorm2d's. */
const batchNormArguments = ["num_features", "eps", "momentum", "affine", "track_running_stats"];

const torchModules: ReadonlyMap<string, { module: string; positional: readonly string[] }> =
  new Map([
    [
      "SpatialConvolution",
      {
        module: "Conv2d",
        positional: [...convolutionArguments, "dilation", "groups", "bias"],
      },
    ],
    [
      "SpatialFullConvolution",
      {
        module: "ConvTranspose2d",
        positional: [...convolutionArguments, "output_padding", "groups", "bias", "dilation"],
      },
    ],
    [
      "SpatialMaxPooling",
      {
        module: "MaxPool2d",
        positional: ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"],
      },
    ],
    [
      "SpatialAveragePooling",
      {
        module: "AvgPool2d",
        positional: ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"],
      },
    ],
    ["SpatialBatchNormalization", { module: "BatchNorm2d", positional: batchNormArguments }],
    ["BatchNormalization", { module: "BatchNorm1d", positional: batchNormArguments }],
    [
      "GroupNormalization",
      { module: "GroupNorm", positional: ["num_groups", "num_channels", "eps", "affine"] },
    ],
    ["InstanceNormalization", { module: "InstanceNorm2d", positional: batchNormArguments }],
    ["Linear", { module: "Linear", positional: ["in_features", "out_features", "bias"] }],
    ["LeakyReLU", { module: "LeakyReLU", positional: ["negative_slope", "inplace"] }],
    [
      "SpatialUpSamplingNearest",
      { module: "UpsamplingNearest2d", positional: ["size", "scale_factor"] },
    ],
  ]);

/** The PyTorch module name of a netc layer, when the catalog knows its arguments. */
export function torchModule(layer: string): string | undefined {
  return torchModules.get(layer)?.module;
}

/** `nn.Linear(in_features, out_features, bias)`: the PyTorch signature a message quotes. */
export function torchSignature(layer: string): string | undefined {
  const torch = torchModules.get(layer);
  return torch && `nn.${torch.module}(${torch.positional.join(", ")})`;
}

/** `Conv2d` for `nn.Conv2d` or `torch.nn.Conv2d` (the grammar joins the qualifier to the name). */
export function unqualified(name: string): string {
  return name.replace(/^(?:torch\.)?nn\./, "");
}

/** A PyTorch call rewritten with netc's names: the arguments to bind, and the edits that write it. */
export interface Translation {
  /** Every argument by its netc name (an `in -> out` pair as `in` and `out`). */
  args: Arg[];
  fix: Fix;
}

/** `True` and `False` as Python spells them. */
const pythonBools: ReadonlyMap<string, boolean> = new Map([
  ["True", true],
  ["False", false],
]);

/**
 * `Conv2d(1, 6, kernel_size=5, padding=2)` read with PyTorch's signature and rewritten as
 * `SpatialConvolution(1 -> 6, kernel=5, pad=2)`: renamed arguments, input and output sizes
 * joined by `->`, positional arguments named where netc's order differs. Undefined when an
 * argument has no netc counterpart, so the call cannot be translated whole.
 */
export function translateTorchCall(call: Call, def: LayerDef): Translation | undefined {
  const torch = torchModules.get(def.name);
  if (!torch) return undefined;
  const positionalSpecs = def.args.filter((s) => !s.namedOnly).map((s) => s.name);
  const inputSize = def.args.find((s) => s.inputSize);
  const edits: TextEdit[] =
    call.callee.name === def.name ? [] : [{ range: call.callee.range, newText: def.name }];
  const args: Arg[] = [];
  let place = 0;
  let named = false;
  let index = 0;
  for (let i = 0; i < call.args.length; i++) {
    const arg = call.args[i]!;
    const torchName = arg.name ? arg.name.name : torch.positional[index++];
    // Only PyTorch's own arguments: `Linear(10, out=10)` is netc's, not PyTorch's.
    if (torchName === undefined || !torch.positional.includes(torchName)) return undefined;
    const name = netcArgument(torchName, def);
    if (name === undefined) return undefined;
    const value = boolValue(arg.value, edits);
    args.push({ name: { name, range: arg.name?.range ?? arg.range }, value, range: arg.range });
    if (arg.name) {
      named = true;
      if (name !== arg.name.name) edits.push({ range: arg.name.range, newText: name });
      continue;
    }
    const next = call.args[i + 1];
    if (
      !named &&
      inputSize &&
      name === inputSize.inputSize &&
      next &&
      !next.name &&
      netcArgument(torch.positional[index] ?? "", def) === inputSize.name
    ) {
      // `1, 6` → `1 -> 6`: the input size before the arrow, as netc states it.
      edits.push({ range: { pos: arg.range.end, end: next.range.pos }, newText: " -> " });
      args.push({
        name: { name: inputSize.name, range: next.range },
        value: boolValue(next.value, edits),
        range: next.range,
      });
      index++;
      i++;
      place = positionalSpecs.indexOf(inputSize.name) + 1;
      continue;
    }
    if (!named && positionalSpecs[place] === name) {
      place++;
      continue;
    }
    named = true;
    edits.push({ range: { pos: arg.range.pos, end: arg.range.pos }, newText: `${name}=` });
  }
  return { args, fix: { title: `Rewrite as netc's ${def.name}`, edits } };
}

/** Python's `True`/`False` as netc's booleans, with the edit that lower-cases them. */
function boolValue(value: Expr, edits: TextEdit[]): Expr {
  const bool = value.kind === "Name" ? pythonBools.get(value.name) : undefined;
  if (bool === undefined) return value;
  edits.push({ range: value.range, newText: String(bool) });
  return { kind: "Bool", value: bool, range: value.range };
}
