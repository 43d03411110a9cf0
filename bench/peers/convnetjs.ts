// ConvNetJS peer: the same nets with its own layers and Trainer (SGD, momentum 0.9, batch 64),
// which trains one sample per call and updates the weights on every 64th.
import { createRequire } from "node:module";
import convnetjs from "convnetjs";
import { measureContender, type Context, type Contender } from "../contender.js";
import { BATCH, PIXELS } from "../data.js";
import { CLASSES, INPUT, plan, type Workload } from "../workloads.js";

export const convnetjsVersion = (): string =>
  (createRequire(import.meta.url)("convnetjs/package.json") as { version: string }).version;

/** ConvNetJS ends in a softmax layer that holds the last fully connected layer itself. */
function layerDefs(workload: Workload): convnetjs.LayerDef[] {
  const defs: convnetjs.LayerDef[] = [
    { type: "input", out_sx: INPUT[2], out_sy: INPUT[1], out_depth: INPUT[0] },
  ];
  const planned = plan(workload);
  planned.forEach(({ layer }, index) => {
    const relu: Record<string, string> =
      planned[index + 1]?.layer.type === "relu" ? { activation: "relu" } : {};
    if (layer.type === "conv") {
      const { kernel: sx, out: filters, pad } = layer;
      defs.push({ type: "conv", sx, filters, stride: 1, pad, ...relu });
    } else if (layer.type === "maxpool") {
      defs.push({ type: "pool", sx: layer.size, stride: layer.size });
    } else if (layer.type === "linear") {
      const last = index === planned.length - 1;
      defs.push(
        last
          ? { type: "softmax", num_classes: CLASSES }
          : { type: "fc", num_neurons: layer.out, ...relu },
      );
    }
  });
  return defs;
}

export async function runConvnetjs(ctx: Context): Promise<Contender> {
  const { data } = ctx;
  // Its input is a Vol per sample, made once here as a data loader would.
  const volumes = Array.from({ length: data.count }, (_, i) => {
    const v = new convnetjs.Vol(INPUT[2], INPUT[1], INPUT[0], 0);
    v.w.set(data.images.subarray(i * PIXELS, (i + 1) * PIXELS));
    return v;
  });
  const version = `ConvNetJS ${convnetjsVersion()}`;
  return measureContender(ctx, { name: "ConvNetJS 1t", threads: 1, version }, (workload) => {
    const net = new convnetjs.Net();
    net.makeLayers(layerDefs(workload));
    const trainer = new convnetjs.Trainer(net, {
      ...{ method: "sgd", learning_rate: 0.01, momentum: 0.9, batch_size: BATCH, l2_decay: 0 },
    });
    const first = (i: number) => (i % data.batches) * BATCH;
    return {
      train: (i) => {
        for (let s = first(i); s < first(i) + BATCH; s++)
          trainer.train(volumes[s]!, data.labels[s]!);
      },
      infer64: (i) => {
        for (let s = first(i); s < first(i) + BATCH; s++) net.forward(volumes[s]!, false);
      },
      infer1: (i) => net.forward(volumes[i % data.count]!, false),
    };
  });
}
