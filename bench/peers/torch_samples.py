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
            return nn.Conv2d(c_in, a["out"], pair(a["kernel"]), pair(a["stride"]), pair(a["pad"]), bias=a["bias"])
        if op == "SpatialFullConvolution":
            return nn.ConvTranspose2d(
                c_in, a["out"], pair(a["kernel"]), pair(a["stride"]), pair(a["pad"]), pair(a["adj"]), bias=a["bias"]
            )
        if op == "SpatialMaxPooling":
            return nn.MaxPool2d(pair(a["kernel"]), pair(a["stride"]), pair(a["pad"]))
        if op == "SpatialAveragePooling":
            return nn.AvgPool2d(pair(a["kernel"]), pair(a["stride"]), pair(a["pad"]))
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
        if op == "SpatialUpSamplingNearest":
            return nn.Upsample(scale_factor=a["scale"], mode="nearest")
        if op == "Linear":
            return nn.Linear(c_in, a["out"], bias=a["bias"])
        if op == "ReLU":
            return nn.ReLU()
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
        if op == "SoftMax":
            return nn.Softmax(dim=1)
        if op == "LogSoftMax":
            return nn.LogSoftmax(dim=1)
        if op == "Dropout":
            return nn.Dropout(a["p"])
        if op in ("View", "Flatten", "Concat", "Add", "Input"):
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
                xs = [values[i] for i in n["inputs"]]
                if index is not None:
                    y = self.steps[index](xs[0])
                elif n["op"] in ("View", "Flatten"):
                    y = xs[0].reshape(xs[0].shape[0], *n["shape"])
                elif n["op"] == "Concat":
                    y = torch.cat(xs, dim=1)
                else:  # Add
                    y = xs[0]
                    for x in xs[1:]:
                        y = y + x
                values[n["id"]] = y
            return tuple(values[o["node"]] for o in model["outputs"])

    return Net()


def criterion(torch, model):
    F = torch.nn.functional
    losses = {"NLL": F.nll_loss, "CrossEntropy": F.cross_entropy, "MSE": F.mse_loss, "BCE": F.binary_cross_entropy}
    names = [o["name"] for o in model["outputs"]]

    def total(outputs, targets):
        return sum(
            t["weight"] * losses[t["criterion"]](outputs[names.index(t["output"])], targets[t["output"]])
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
        net = build(torch, model)
        opt, loss_of = optimizer(torch, model, net), criterion(torch, model)
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
