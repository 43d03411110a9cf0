// The training half of the PyTorch export: `criterion` with netc's terms and weights, and
// `optimizer` with the `train` block's optimizer and schedule, as torch.nn.functional and
// torch.optim name them.
import type { CriterionTerm, ModelIR } from "../ir.js";
import type { OptimizerConfig, ScheduleConfig } from "../../runtime/api-types.js";
import { defaultOptimizer, optimizerDefaults } from "../../runtime/optimizers.js";
import { NetcError } from "../../runtime/errors.js";
import { py, pyList } from "./python.js";

/** Keyword arguments, `name=value`, leaving out those not given. */
const keywords = (args: Record<string, string | undefined>): string =>
  Object.entries(args)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `, ${k}=${v}`)
    .join("");

/** A tensor of constants: class weights, pos_weight. */
const tensor = (values: readonly number[] | undefined, shape = ""): string | undefined =>
  values && `torch.tensor(${pyList(values)})${shape}`;

/** Each criterion as a torch.nn.functional call on output `o` and target `t` (mean reduction). */
const criterionCalls: Readonly<
  Record<string, (term: CriterionTerm, o: string, t: string, rank: number) => string>
> = {
  NLL: (term, o, t) =>
    `F.nll_loss(${o}, ${t}${keywords({ weight: tensor(term.args["weights"] as number[] | undefined), ignore_index: term.args["ignore"] === undefined ? undefined : py(term.args["ignore"] as number) })})`,
  CrossEntropy: (term, o, t) => {
    const smoothing = term.args["label_smoothing"] as number | undefined;
    return `F.cross_entropy(${o}, ${t}${keywords({
      weight: tensor(term.args["weights"] as number[] | undefined),
      ignore_index:
        term.args["ignore"] === undefined ? undefined : py(term.args["ignore"] as number),
      label_smoothing: smoothing ? py(smoothing) : undefined,
    })})`;
  },
  BCE: (_term, o, t) => `F.binary_cross_entropy(${o}, ${t})`,
  MSE: (_term, o, t) => `F.mse_loss(${o}, ${t})`,
  L1: (_term, o, t) => `F.l1_loss(${o}, ${t})`,
  SmoothL1: (term, o, t) => `F.smooth_l1_loss(${o}, ${t}, beta=${py(term.args["beta"] as number)})`,
  // netc's pos_weight is per channel: [C] on [N, C], [C, 1, 1] on [N, C, H, W] (PyTorch broadcasts).
  BCEWithLogits: (term, o, t, rank) =>
    `F.binary_cross_entropy_with_logits(${o}, ${t}${keywords({
      pos_weight: tensor(
        term.args["pos_weight"] as number[] | undefined,
        rank > 1 ? `.reshape(-1${", 1".repeat(rank - 1)})` : "",
      ),
    })})`,
  KLDiv: (term, o, t) =>
    `F.kl_div(${o}, ${t}, reduction="batchmean", log_target=${py(term.args["log_target"] === true)})`,
};

/** The criteria the export maps, for the test that every catalog criterion is. */
export const torchCriteria: readonly string[] = Object.keys(criterionCalls);

/**
 * `criterion(outputs, targets)`: the weighted sum of the terms, in the order netc adds them.
 * With one output, `outputs` and `targets` are tensors; with several, `outputs` is forward's
 * tuple and `targets` a dict by output name.
 */
export function criterionSource(model: ModelIR): string {
  const several = model.outputs.length > 1;
  const terms = model.criterion.map((term) => {
    const call = criterionCalls[term.criterion];
    if (!call)
      throw new NetcError(`the PyTorch export has no mapping for criterion ${term.criterion}`);
    const index = model.outputs.findIndex((o) => o.name === term.output);
    const o = several ? `outputs[${index}]` : "outputs";
    const t = several ? `targets[${py(term.output)}]` : "targets";
    const rank = model.nodes.find((n) => n.id === term.node)!.shape.length;
    const text = call(term, o, t, rank);
    return term.weight === 1 ? text : `${py(term.weight)} * ${text}`;
  });
  const body = terms.length === 1 ? terms[0]! : `(\n        ${terms.join("\n        + ")}\n    )`;
  const shape = several
    ? "outputs is forward's tuple and targets a dict by output name"
    : "outputs and targets are tensors";
  return `def criterion(outputs, targets):
    """netc's criterion: each term a mean, as PyTorch's default reduction
    (${shape})."""
    return ${body}
`;
}

const optimizerClasses: Readonly<Record<OptimizerConfig["name"], (a: Args) => string>> = {
  SGD: (a) =>
    `torch.optim.SGD(params, lr=lr, momentum=${py(a("momentum"))}, weight_decay=${py(a("weight_decay"))}, nesterov=${py(a("nesterov"))})`,
  Adam: (a) =>
    `torch.optim.Adam(params, lr=lr, betas=${py(a("betas"))}, eps=${py(a("eps"))}, weight_decay=${py(a("weight_decay"))})`,
  AdamW: (a) =>
    `torch.optim.AdamW(params, lr=lr, betas=${py(a("betas"))}, eps=${py(a("eps"))}, weight_decay=${py(a("weight_decay"))})`,
  RMSprop: (a) =>
    `torch.optim.RMSprop(params, lr=lr, alpha=${py(a("alpha"))}, eps=${py(a("eps"))}, weight_decay=${py(a("weight_decay"))}, momentum=${py(a("momentum"))}, centered=${py(a("centered"))})`,
  Adagrad: (a) =>
    `torch.optim.Adagrad(params, lr=lr, lr_decay=${py(a("lr_decay"))}, weight_decay=${py(a("weight_decay"))}, initial_accumulator_value=${py(a("initial_accumulator_value"))}, eps=${py(a("eps"))})`,
};

type Args = (name: string) => Parameters<typeof py>[0];

/** A `torch.optim.lr_scheduler` class on `opt` with the schedule's arguments, in PyTorch's order. */
function scheduler(config: ScheduleConfig): string {
  const args = Object.entries(config.args)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? pyList(v) : py(v as number)}`)
    .join(", ");
  return `torch.optim.lr_scheduler.${config.name}(opt, ${args})`;
}

/**
 * `optimizer(model, lr)`: the train block's optimizer over the trainable parameters (frozen ones
 * have requires_grad off) and its scheduler, to step after every epoch (None without a schedule):
 * a warm-up before a schedule is SequentialLR, as netc's.
 */
export function optimizerSource(model: ModelIR): { source: string; lr: number } {
  const config = model.train.optimizer ?? defaultOptimizer;
  const defaults: Record<string, unknown> = optimizerDefaults[config.name];
  const arg: Args = (name) => (config.args[name] ?? defaults[name]) as Parameters<typeof py>[0];
  const lr = (config.args["lr"] ?? defaults["lr"]) as number;
  const { schedule, warmup } = model.train;
  const first = warmup ?? schedule;
  const sched = !first
    ? "None"
    : warmup && schedule
      ? `torch.optim.lr_scheduler.SequentialLR(opt, [${scheduler(warmup)}, ${scheduler(schedule)}], milestones=[${warmup.args.total_iters}])`
      : scheduler(first);
  const source = `def optimizer(model, lr=LR):
    """The train block's optimizer and its learning-rate scheduler (None without a schedule),
    which steps once after every epoch."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = ${optimizerClasses[config.name](arg)}
    return opt, ${sched}
`;
  return { source, lr };
}
