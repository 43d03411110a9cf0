# PyTorch peer of `npm run bench`, run by bench/peers/torch.ts at one thread count: the same
# workloads, data and protocol (bench/protocol.ts) in Python; prints one JSON object on stdout.
import json
import statistics
import sys
import time
import warnings


def warming(calls, warmup, start, p):
    elapsed = time.perf_counter() - start
    return (calls < warmup or elapsed < p["warmupSeconds"]) and elapsed < p["maxSeconds"]


def throughput(fn, p):
    """Calls per second, median of the repetitions; as throughput() in bench/protocol.ts."""
    i = 0
    start = time.perf_counter()
    fn(i)
    i += 1
    first = time.perf_counter() - start
    if first > p["maxSeconds"]:
        if first > 4 * p["maxSeconds"]:
            return 1 / first, True, first
        begin = time.perf_counter()
        fn(i)
        return 1 / (time.perf_counter() - begin), True, first
    while warming(i, p["warmup"], start, p):
        fn(i)
        i += 1
    rates, approx = [], False
    for _ in range(p["reps"]):
        begin, calls = time.perf_counter(), 0
        while True:
            fn(i)
            i += 1
            calls += 1
            elapsed = time.perf_counter() - begin
            if (calls >= p["minSteps"] and elapsed >= p["minSeconds"]) or elapsed >= p["maxSeconds"]:
                break
        approx = approx or calls < p["minSteps"]
        rates.append(calls / elapsed)
    return statistics.median(rates), approx, first


def latency(fn, p):
    """Median milliseconds per call; as latency() in bench/protocol.ts."""
    i = 0
    start = time.perf_counter()
    while warming(i, p["infer1Warmup"], start, p):
        fn(i)
        i += 1
    times = []
    begin = time.perf_counter()
    while len(times) < p["infer1Calls"] and time.perf_counter() - begin < 2 * p["maxSeconds"]:
        t = time.perf_counter()
        fn(i)
        i += 1
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times), len(times) < p["infer1Calls"]


def build(torch, planned):
    nn = torch.nn
    modules = []
    for entry in planned:
        layer, inputs = entry["layer"], entry["input"]
        kind = layer["type"]
        if kind == "conv":
            modules.append(nn.Conv2d(inputs[0], layer["out"], layer["kernel"], padding=layer["pad"]))
        elif kind == "relu":
            modules.append(nn.ReLU())
        elif kind == "maxpool":
            modules.append(nn.MaxPool2d(layer["size"]))
        elif kind == "flatten":
            modules.append(nn.Flatten())
        elif kind == "linear":
            modules.append(nn.Linear(inputs[0], layer["out"]))
    modules.append(nn.LogSoftmax(dim=1))
    return nn.Sequential(*modules)


def main():
    config = json.load(sys.stdin)
    try:
        import numpy as np
        import torch
    except ImportError as error:
        print(json.dumps({"missing": str(error)}))
        return
    threads, p, batch = config["threads"], config["protocol"], config["batch"]
    if p["maxStepSeconds"] is None:  # JSON has no Infinity
        p["maxStepSeconds"] = float("inf")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    count = config["count"]
    images = torch.from_numpy(np.fromfile(config["images"], dtype=np.float32).reshape(count, 1, 28, 28))
    labels = torch.from_numpy(np.fromfile(config["labels"], dtype=np.int32).astype(np.int64))
    batches = [(images[s : s + batch], labels[s : s + batch]) for s in range(0, count, batch)]
    name = f"PyTorch {threads}t"
    cells, onnx = {}, {}
    for workload in config["workloads"]:
        model = build(torch, workload["plan"])
        if config.get("onnxDir"):
            path = f"{config['onnxDir']}/{workload['name']}.onnx"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    model.eval(), images[:1], path, input_names=["x"], output_names=["y"],
                    dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=13,
                )
            onnx[workload["name"]] = path
        if not config["measure"]:
            continue
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        nll = torch.nn.NLLLoss()

        def train(i):
            x, y = batches[i % len(batches)]
            optimizer.zero_grad(set_to_none=True)
            loss = nll(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.item()

        def infer64(i):
            return model(batches[i % len(batches)][0]).numpy()

        def infer1(i):
            s = i % count
            return model(images[s : s + 1]).numpy()

        result = {}

        def report(metric, cell):
            result[metric] = cell
            shown = f"{cell['value']:.4g}" if "value" in cell else cell["note"]
            print(f"{name} {workload['name']} {metric}: {shown}", file=sys.stderr, flush=True)

        model.eval()
        with torch.inference_mode():
            ms, approx = latency(infer1, p)
            report("infer1", {"value": ms, "approx": approx})
            rate, approx, first = throughput(infer64, p)
            report("infer64", {"value": batch * rate, "approx": approx})
        model.train()
        if 3 * min(first, 1 / rate) > p["maxStepSeconds"]:
            report("train", {"note": "too slow for --quick"})
        else:
            rate, approx, _ = throughput(train, p)
            report("train", {"value": batch * rate, "approx": approx})
        cells[workload["name"]] = result
    version = f"PyTorch {torch.__version__} (numpy {np.__version__})"
    print(json.dumps({"version": version, "cells": cells, "onnx": onnx}))


if __name__ == "__main__":
    main()
