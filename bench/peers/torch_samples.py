# PyTorch peer of the samples section of `npm run bench`, run by bench/peers/torch-samples.ts at
# one thread count: each sample's model rebuilt in PyTorch from netc's IR (same layers, criterion,
# optimizer and batch), trained on the same random data; prints one JSON object on stdout.
import json
import sys

from torch_bench import throughput


def pair(v):
    return tuple(v) if isinstance(v, list) else (v, v)


def build(torch, model):
    """An nn.Module running netc's IR nodes in order; its forward returns the outputs in order."""
    nn = torch.nn
    shapes = {n["id"]: n["shape"] for n in model["nodes"]}

    def layer(n):
        op, a = n["op"], n["attrs"]
        c_in = shapes[n["inputs"][0]][0] if n["inputs"] else None
        if op == "SpatialConvolution":
            return nn.Conv2d(
                c_in, a["out"], pair(a["kernel"]), pair(a["stride"]), pair(a["pad"]), pair(a["dilation"]),
                a["groups"], bias=a["bias"]
            )
        if op == "SpatialFullConvolution":
            return nn.ConvTranspose2d(
                c_in, a["out"], pair(a["kernel"]), pair(a["stride"]), pair(a["pad"]), pair(a["adj"]),
                a["groups"], bias=a["bias"], dilation=pair(a["dilation"])
            )
        if op == "SpatialMaxPooling":
            return nn.MaxPool2d(pair(a["kernel"]), pair(a["stride"]), pair(a["pad"]), ceil_mode=a["ceil"])
        if op == "SpatialAveragePooling":
            return nn.AvgPool2d(
                pair(a["kernel"]), pair(a["stride"]), pair(a["pad"]), ceil_mode=a["ceil"],
                count_include_pad=a.get("count_include_pad", True),
            )
        if op == "TemporalConvolution":
            return nn.Conv1d(
                c_in, a["out"], a["kernel"], a["stride"], a["pad"], a["dilation"], a["groups"], bias=a["bias"]
            )
        if op == "TemporalMaxPooling":
            return nn.MaxPool1d(a["kernel"], a["stride"], a["pad"], ceil_mode=a["ceil"])
        if op == "TemporalAveragePooling":
            return nn.AvgPool1d(
                a["kernel"], a["stride"], a["pad"], ceil_mode=a["ceil"], count_include_pad=a["count_include_pad"]
            )
        if op in ("SpatialBatchNormalization", "BatchNormalization"):
            norm = nn.BatchNorm2d if op == "SpatialBatchNormalization" else nn.BatchNorm1d
            return norm(c_in, eps=a["eps"], momentum=a["momentum"], affine=a["affine"])
        if op == "GroupNormalization":
            return nn.GroupNorm(a["groups"], c_in, eps=a["eps"], affine=a["affine"])
        if op == "LayerNormalization":
            return nn.LayerNorm(shapes[n["inputs"][0]], eps=a["eps"], elementwise_affine=a["affine"])
        if op == "InstanceNormalization":
            # PyTorch's default track_running_stats=False: batch statistics in evaluation too, as netc.
            norm = nn.InstanceNorm2d if len(shapes[n["inputs"][0]]) == 3 else nn.InstanceNorm1d
            return norm(c_in, eps=a["eps"], affine=a["affine"])
        if op == "SpatialAdaptiveAveragePooling":
            return nn.AdaptiveAvgPool2d((a["h"], a["w"]))
        if op == "SpatialAdaptiveMaxPooling":
            return nn.AdaptiveMaxPool2d((a["h"], a["w"]))
        if op in ("SpatialZeroPadding", "SpatialReflectionPadding", "SpatialReplicationPadding"):
            pads = tuple(a[k] for k in ("left", "right", "top", "bottom"))
            return {"SpatialZeroPadding": nn.ZeroPad2d, "SpatialReflectionPadding": nn.ReflectionPad2d,
                    "SpatialReplicationPadding": nn.ReplicationPad2d}[op](pads)
        if op == "SpatialUpSamplingNearest":
            return nn.Upsample(scale_factor=a["scale"], mode="nearest")
        if op == "SpatialUpSamplingBilinear":
            return nn.Upsample(scale_factor=a["scale"], mode="bilinear", align_corners=a["align_corners"])
        if op == "Linear":
            return nn.Linear(c_in, a["out"], bias=a["bias"])
        if op == "ReLU":
            return nn.ReLU()
        if op == "ReLU6":
            return nn.ReLU6()
        if op == "LeakyReLU":
            return nn.LeakyReLU(a["slope"])
        if op == "ELU":
            return nn.ELU(a["alpha"])
        if op == "Sigmoid":
            return nn.Sigmoid()
        if op == "Tanh":
            return nn.Tanh()
        if op == "SoftPlus":
            return nn.Softplus(a["beta"], a["threshold"])
        if op == "HardTanh":
            return nn.Hardtanh(a["min_val"], a["max_val"])
        if op == "GELU":
            return nn.GELU(approximate="tanh" if a["approximate"] else "none")
        if op == "PReLU":
            return nn.PReLU(a["num_parameters"], init=a["init"])
        simple = {"SiLU": nn.SiLU, "HardSigmoid": nn.Hardsigmoid, "HardSwish": nn.Hardswish,
                  "LogSigmoid": nn.LogSigmoid, "SoftSign": nn.Softsign}
        if op in simple:
            return simple[op]()
        if op == "SoftMin":
            return nn.Softmin(dim=1)
        if op == "SoftMax":
            return nn.Softmax(dim=1)
        if op == "LogSoftMax":
            return nn.LogSoftmax(dim=1)
        if op == "Dropout":
            return nn.Dropout(a["p"])
        if op in ("View", "Flatten", "Concat", "Add", "Mul", "Input"):
            return None
        raise ValueError(f"no PyTorch layer for {op}")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.steps = nn.ModuleList()
            self.plan = []
            for n in model["nodes"]:
                module = layer(n)
                if module is not None:
                    self.steps.append(module)
                self.plan.append((n, len(self.steps) - 1 if module is not None else None))

        def forward(self, *inputs):
            values = dict(zip((i["node"] for i in model["inputs"]), inputs))
            for n, index in self.plan:
                if n["op"] == "Input":
                    continue
                # An input of fewer dimensions than the output gets the missing ones after the
                # batch: PyTorch broadcasts from the last dimension, the batch included.
                xs = [
                    x if x.dim() == len(n["shape"]) + 1
                    else x.reshape(x.shape[0], *[1] * (len(n["shape"]) + 1 - x.dim()), *x.shape[1:])
                    for x in (values[i] for i in n["inputs"])
                ]
                if index is not None:
                    y = self.steps[index](xs[0])
                elif n["op"] in ("View", "Flatten"):
                    y = xs[0].reshape(xs[0].shape[0], *n["shape"])
                elif n["op"] == "Concat":
                    y = torch.cat(xs, dim=1)
                else:  # Add, Mul
                    y = xs[0]
                    for x in xs[1:]:
                        y = y + x if n["op"] == "Add" else y * x
                values[n["id"]] = y
            return tuple(values[o["node"]] for o in model["outputs"])

    return Net()


def criterion(torch, model):
    """netc's criterion: the weighted sum of its terms, each a torch.nn.functional mean with its options."""
    F = torch.nn.functional
    names = [o["name"] for o in model["outputs"]]

    def classes(a):
        weight = torch.tensor(a["weights"]) if "weights" in a else None
        return {"weight": weight, "ignore_index": a.get("ignore", -100)}

    def pos_weight(a, rank):
        # netc's pos_weight is per channel: [C] on [N, C], [C, 1, 1] on [N, C, H, W].
        if "pos_weight" not in a:
            return {}
        return {"pos_weight": torch.tensor(a["pos_weight"]).reshape(-1, *[1] * (rank - 1))}

    losses = {
        "NLL": lambda o, t, a: F.nll_loss(o, t, **classes(a)),
        "CrossEntropy": lambda o, t, a: F.cross_entropy(o, t, label_smoothing=a.get("label_smoothing", 0), **classes(a)),
        "BCE": lambda o, t, a: F.binary_cross_entropy(o, t),
        "MSE": lambda o, t, a: F.mse_loss(o, t),
        "L1": lambda o, t, a: F.l1_loss(o, t),
        "SmoothL1": lambda o, t, a: F.smooth_l1_loss(o, t, beta=a["beta"]),
        "BCEWithLogits": lambda o, t, a: F.binary_cross_entropy_with_logits(o, t, **pos_weight(a, o.dim() - 1)),
        "KLDiv": lambda o, t, a: F.kl_div(o, t, reduction="batchmean", log_target=a.get("log_target", False)),
    }

    for t in model["criterion"]:
        if t["criterion"] not in losses:
            raise ValueError(f"no PyTorch loss for {t['criterion']}")

    def total(outputs, targets):
        return sum(
            t["weight"] * losses[t["criterion"]](outputs[names.index(t["output"])], targets[t["output"]], t["args"])
            for t in model["criterion"]
        )

    return total


def optimizer(torch, model, net):
    o = model["optimizer"]
    a = o["args"]
    if o["name"] == "SGD":
        return torch.optim.SGD(
            net.parameters(), lr=a["lr"], momentum=a.get("momentum", 0),
            weight_decay=a.get("weight_decay", 0), nesterov=a.get("nesterov", False),
        )
    return torch.optim.Adam(
        net.parameters(), lr=a.get("lr", 0.001), betas=tuple(a.get("betas", (0.9, 0.999))),
        eps=a.get("eps", 1e-8), weight_decay=a.get("weight_decay", 0),
    )


def data(torch, model, batch, batches):
    """Random inputs in [0, 1) and targets of each criterion's kind: a few batches to cycle."""
    g = torch.Generator().manual_seed(0)

    def one():
        xs = [torch.rand(batch, *i["shape"], generator=g) for i in model["inputs"]]
        ts = {}
        for t in model["criterion"]:
            shape = (batch, *t["target"])
            if t["targetKind"] == "classes":
                ts[t["output"]] = torch.randint(0, t["classes"], shape, generator=g)
            else:
                ts[t["output"]] = torch.rand(shape, generator=g)
        return xs, ts

    return [one() for _ in range(batches)]


def main():
    config = json.load(sys.stdin)
    try:
        import torch
    except ImportError as error:
        print(json.dumps({"missing": str(error)}))
        return
    threads, p = config["threads"], config["protocol"]
    if p["maxStepSeconds"] is None:  # JSON has no Infinity
        p["maxStepSeconds"] = float("inf")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cells = {}
    for model in config["samples"]:
        try:
            net, loss_of = build(torch, model), criterion(torch, model)
        except ValueError as error:
            # A layer or loss this file does not rebuild costs that sample's figure, not the others'.
            cells[model["sample"]] = {"note": str(error)}
            print(f"PyTorch {threads}t {model['sample']} train: {error}", file=sys.stderr, flush=True)
            continue
        opt = optimizer(torch, model, net)
        batches = data(torch, model, model["batch"], 4)

        def train(i):
            xs, ts = batches[i % len(batches)]
            opt.zero_grad(set_to_none=True)
            loss = loss_of(net(*xs), ts)
            loss.backward()
            opt.step()
            return loss.item()

        net.train()
        rate, approx, _ = throughput(train, p)
        cell = {"value": model["batch"] * rate, "approx": approx}
        print(f"PyTorch {threads}t {model['sample']} train: {cell['value']:.4g}", file=sys.stderr, flush=True)
        cells[model["sample"]] = cell
    print(json.dumps({"version": f"PyTorch {torch.__version__}", "cells": cells}))


if __name__ == "__main__":
    main()
