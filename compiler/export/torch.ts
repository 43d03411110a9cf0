// The PyTorch export: a Python module, importing only torch and the standard library, whose
// model class has netc's parameter names (state_dict keys) and forward, with the criterion, the
// optimizer and a torchrun entry point that trains on data saved by netc. Runs in browsers too.
import type { IRNode, ModelIR } from "../ir.js";
import { trainDefaults } from "../train.js";
import { NetcError } from "../../runtime/errors.js";
import { isAttribute, isIdentifier, py } from "./python.js";
import { torchLayers, type LayerUse } from "./torch-layers.js";
import { torchMain } from "./torch-main.js";
import { criterionSource, optimizerSource } from "./torch-training.js";

export interface TorchExportOptions {
  /** The .net file's name, for the module's docstring. */
  source?: string;
  /** The Python file's name, for the command in its docstring (default: the model's, lower-cased). */
  file?: string;
}

/** The exported module's own top-level names, which the model's class must not take. */
const moduleNames = new Set(
  (
    "BatchNorm Group MODEL INPUTS OUTPUTS TARGETS TRAIN LR CLIP_GRAD_NORM AUGMENT IGNORE F nn " +
    "torch argparse ast json math os struct zipfile"
  ).split(" "),
);

/** Submodules by label path: a layer's constructor, or a level of further names. */
type Tree = Map<string, string | Tree>;

const helpers = {
  BatchNorm: `class BatchNorm(nn.Module):
    """nn.BatchNorm1d/2d's computation (F.batch_norm) with netc's tensors: weight and bias (when
    affine), running_mean and running_var, and no num_batches_tracked, which netc does not keep."""

    def __init__(self, features, eps, momentum, affine):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(features)) if affine else None
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, self.momentum, self.eps)
`,
  Group: `class Group(nn.Module):
    """A level of netc's parameter names (\`features\` of \`features.0.weight\`): submodules under
    any name, numbers included, read back with group["0"]."""

    def __init__(self, modules):
        super().__init__()
        self._modules.update(modules)

    def __getitem__(self, name):
        return self._modules[name]
`,
};

/** The Python module for `model`, a checked model (check() or compile()). */
export function exportTorch(model: ModelIR, options: TorchExportOptions = {}): string {
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const use = (n: IRNode): LayerUse => ({
    args: n.attrs,
    inputs: n.inputs.map((i) => byId.get(i)!.shape),
    output: n.shape,
  });
  const layer = (n: IRNode) => {
    const entry = torchLayers[n.op];
    if (!entry)
      throw new NetcError(`the PyTorch export has no mapping for layer ${n.op} (${n.name})`);
    return entry;
  };

  // Inputs keep their names where Python can; every other value is x<id>.
  const taken = new Set<string>(["self", "torch", "nn", "F"]);
  const values = new Map<number, string>();
  model.inputs.forEach((input, i) => {
    const ok = isIdentifier(input.name) && !taken.has(input.name) && !/^x\d+$/.test(input.name);
    const name = ok ? input.name : `input_${i}`;
    taken.add(name);
    values.set(input.node, name);
  });

  const tree: Tree = new Map();
  const used = new Set<keyof typeof helpers>();
  const frozen: string[] = [];
  const lines: string[] = [];
  for (const n of model.nodes) {
    if (n.op === "Input") continue;
    const entry = layer(n);
    let m = "";
    if (entry.module) {
      const path = n.name.split(".");
      let level = tree;
      for (const part of path.slice(0, -1)) {
        if (!level.has(part)) level.set(part, new Map());
        level = level.get(part) as Tree;
      }
      const ctor = entry.module(use(n));
      if (ctor.startsWith("BatchNorm(")) used.add("BatchNorm");
      level.set(path.at(-1)!, ctor);
      m = moduleAccess(path);
      const local = (p: { name: string }) => p.name.slice(n.name.length + 1);
      frozen.push(...n.params.filter((p) => p.frozen).map((p) => `${m}.${local(p)}`));
    }
    const x = n.inputs.map((i) => values.get(i)!);
    const name = `x${n.id}`;
    values.set(n.id, name);
    lines.push(`${name} = ${entry.call(use(n), x, m)}`);
  }
  if ([...tree.values()].some((v) => typeof v !== "string")) used.add("Group");

  const init = [...tree].map(([name, v]) => {
    const target = isAttribute(name) ? `self.${name}` : `self._modules[${py(name)}]`;
    return `${target} = ${construct(v, 2)}`;
  });
  init.push(...frozen.map((p) => `${p}.requires_grad_(False)`));
  const args = model.inputs.map((i) => values.get(i.node)!);
  const outs = model.outputs.map((o) => values.get(o.node)!);
  const className = !isIdentifier(model.name)
    ? "Model"
    : moduleNames.has(model.name)
      ? `${model.name}Model`
      : model.name;
  const { source: optimizer, lr } = optimizerSource(model);
  const train = model.train;
  const classTerm = model.criterion.find((t) => t.targetKind === "classes");
  const ignore = classTerm?.args["ignore"] as number | undefined;
  const from = options.source ? ` from ${options.source}` : "";
  const file = options.file ?? `${model.name.toLowerCase()}.py`;

  return `"""${model.name}, exported by netc${from}: the model with netc's parameter names, its
criterion and optimizer, and a training entry point. Train on data saved by netc on K processes:

    netc data ${options.source ?? "MODEL.net"} --out data.npz
    torchrun --nproc_per_node=K ${file} --data data.npz --save weights.safetensors
    netc eval ${options.source ?? "MODEL.net"} --weights weights.safetensors --data data.npz
"""
import argparse
import ast
import json
import math
import os
import struct
import zipfile

import torch
import torch.nn as nn
import torch.nn.functional as F

${[...used].map((h) => `\n${helpers[h]}\n`).join("")}
class ${className}(nn.Module):
    def __init__(self):
        super().__init__()
${indent(init.length > 0 ? init : ["pass"], 2)}

    def forward(self, ${args.join(", ")}):
${indent([...lines, `return ${outs.join(", ")}`], 2)}


MODEL = ${className}
# Per-sample shapes: the inputs, the outputs, and each judged output's target and its kind.
INPUTS = {${model.inputs.map((i) => `${py(i.name)}: ${py(byId.get(i.node)!.shape)}`).join(", ")}}
OUTPUTS = {${model.outputs.map((o) => `${py(o.name)}: ${py(byId.get(o.node)!.shape)}`).join(", ")}}
TARGETS = {${uniqueTargets(model)}}
# The train block (netc's defaults where it says nothing).
TRAIN = {"batch": ${train.batch ?? trainDefaults.batch}, "epochs": ${train.epochs ?? trainDefaults.epochs}, "seed": ${train.seed ?? trainDefaults.seed}}
LR = ${py(lr)}
CLIP_GRAD_NORM = ${py(train.clip_grad_norm)}
# The train block's augment: ("RandomCrop", padding) and ("RandomHorizontalFlip", p), in order.
AUGMENT = [${(train.augment ?? []).map((a) => (a.name === "RandomCrop" ? `("RandomCrop", ${a.padding})` : `("RandomHorizontalFlip", ${py(a.p)})`)).join(", ")}]
# A class label that counts for nothing (the criterion's ignore=), left out of the accuracy.
IGNORE = ${py(ignore)}


${criterionSource(model)}

${optimizer}
${torchMain}`;
}

/** `self.conv1`, `self.stage1["a"]`, `self._modules["0"]["1"]`. */
function moduleAccess(path: readonly string[]): string {
  const [first, ...rest] = path;
  const top = isAttribute(first!) ? `self.${first}` : `self._modules[${py(first!)}]`;
  return top + rest.map((p) => `[${py(p)}]`).join("");
}

/** A constructor, or a Group of the level's modules, indented for a nested literal. */
function construct(v: string | Tree, depth: number): string {
  if (typeof v === "string") return v;
  const pad = "    ".repeat(depth + 1);
  const items = [...v].map(([k, c]) => `${pad}${py(k)}: ${construct(c, depth + 1)},`);
  return `Group({\n${items.join("\n")}\n${"    ".repeat(depth)}})`;
}

/** Each judged output once: its per-sample target shape and kind. */
function uniqueTargets(model: ModelIR): string {
  const seen = new Map(model.criterion.map((t) => [t.output, t] as const));
  return [...seen.values()]
    .map((t) => `${py(t.output)}: (${py(t.target)}, ${py(t.targetKind)})`)
    .join(", ");
}

const indent = (lines: readonly string[], depth: number): string =>
  lines.map((l) => `${"    ".repeat(depth)}${l}`).join("\n");
