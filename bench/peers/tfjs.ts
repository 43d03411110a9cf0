// TF.js peers: tfjs-core ops on the wasm backend (XNNPACK, SIMD, 1 thread) and the cpu backend,
// trained with variableGrads and SGD with momentum.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as TF from "@tensorflow/tfjs-core";
import { measureContender, type Context, type Contender } from "../contender.js";
import { BATCH, batchOf, sampleOf } from "../data.js";
import { Unsupported } from "../protocol.js";
import { CLASSES, plan, type Workload } from "../workloads.js";

type Tf = typeof TF;
interface Bundle {
  tf: Tf;
  setWasmPaths(prefix: string): void;
  setThreadsCount(threads: number): void;
  version_wasm: string;
}

// tfjs-core's Node build registers no gradients (the @tensorflow/tfjs bundle does, with 290 MB of
// packages around it), and its ES modules have extensionless imports that Node cannot load. So
// esbuild bundles the ES builds of core, its gradients and both backends into one copy here.
const ENTRY = `
export * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import "@tensorflow/tfjs-backend-cpu";
export { setWasmPaths, setThreadsCount, version_wasm } from "@tensorflow/tfjs-backend-wasm";
`;

async function loadTfjs(root: string): Promise<Bundle> {
  const { build } = await import("esbuild");
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: root },
    bundle: true,
    platform: "node",
    format: "cjs",
    mainFields: ["module", "main"],
    write: false,
    logLevel: "error",
  });
  const dir = mkdtempSync(join(tmpdir(), "netc-bench-tfjs-"));
  try {
    const file = join(dir, "tfjs.cjs");
    writeFileSync(file, result.outputFiles[0]!.contents);
    return createRequire(import.meta.url)(file) as Bundle;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The workload as fused tfjs ops (bias and ReLU inside the conv or matmul), NHWC. */
function buildModel(tf: Tf, workload: Workload) {
  const variables: TF.Variable[] = [];
  const param = (shape: number[], fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn); // PyTorch's default initialisation
    const v = tf.variable(tf.randomUniform(shape, -bound, bound, "float32", variables.length));
    variables.push(v);
    return v;
  };
  const stages: ((x: TF.Tensor) => TF.Tensor)[] = [];
  const planned = plan(workload);
  planned.forEach(({ layer, input }, index) => {
    const activation = planned[index + 1]?.layer.type === "relu" ? "relu" : "linear";
    if (layer.type === "conv") {
      const fanIn = input[0]! * layer.kernel ** 2;
      const filter = param(
        [layer.kernel, layer.kernel, input[0]!, layer.out],
        fanIn,
      ) as TF.Tensor4D;
      const bias = param([layer.out], fanIn);
      // Stride 1 and an odd kernel: "same" is pad (k - 1) / 2.
      const pad = layer.pad === 0 ? "valid" : "same";
      stages.push((x) =>
        tf.fused.conv2d({ x: x as TF.Tensor4D, filter, strides: 1, pad, bias, activation }),
      );
    } else if (layer.type === "linear") {
      const weights = param([input[0]!, layer.out], input[0]!) as TF.Tensor2D;
      const bias = param([layer.out], input[0]!);
      stages.push((x) => tf.fused.matMul({ a: x as TF.Tensor2D, b: weights, bias, activation }));
    } else if (layer.type === "maxpool") {
      stages.push((x) => tf.maxPool(x as TF.Tensor4D, layer.size, layer.size, "valid"));
    } else if (layer.type === "flatten") {
      stages.push((x) => tf.reshape(x, [x.shape[0]!, -1]));
    }
  });
  const forward = (x: TF.Tensor) => tf.logSoftmax(stages.reduce((h, stage) => stage(h), x));
  return { variables, forward };
}

export async function runTfjs(ctx: Context, root: string): Promise<Contender[]> {
  const bundle = await loadTfjs(root);
  const { tf } = bundle;
  tf.enableProdMode(); // what a tuned deployment does; it also mutes the "install tfjs-node" hint
  bundle.setWasmPaths(join(root, "node_modules/@tensorflow/tfjs-backend-wasm/dist/"));
  bundle.setThreadsCount(1);
  const contenders: Contender[] = [];
  for (const backend of ["wasm", "cpu"]) {
    if (!(await tf.setBackend(backend))) throw new Error(`TF.js ${backend} backend did not start`);
    const version = `TF.js ${tf.version_core} ${backend === "wasm" ? `wasm ${bundle.version_wasm} (SIMD, XNNPACK)` : "cpu"}`;
    const contender = await measureContender(
      ctx,
      { name: `TF.js-${backend} 1t`, threads: 1, version },
      (workload) => {
        const { variables, forward } = buildModel(tf, workload);
        const optimizer = tf.train.momentum(0.01, 0.9);
        const input = (x: Float32Array, n: number) => tf.tensor4d(x, [n, 28, 28, 1]);
        return {
          train: (i) => {
            const { x, y } = batchOf(ctx.data, i);
            try {
              tf.tidy(() => {
                const images = input(x, BATCH);
                const targets = tf.oneHot(tf.tensor1d(y, "int32"), CLASSES);
                // NLL of the log-probabilities: minus their mean at the target class.
                const nll = () => tf.neg(tf.mean(tf.sum(tf.mul(forward(images), targets), 1)));
                optimizer.minimize(nll as () => TF.Scalar, true, variables)!.dataSync();
              });
            } catch (error) {
              const kernel = /Kernel '(\w+)' not registered/.exec(String(error))?.[1];
              if (kernel) throw new Unsupported(`cannot train (no ${kernel})`);
              throw error;
            }
          },
          infer64: (i) => tf.tidy(() => forward(input(batchOf(ctx.data, i).x, BATCH)).dataSync()),
          infer1: (i) => tf.tidy(() => forward(input(sampleOf(ctx.data, i), 1)).dataSync()),
          dispose: () => {
            optimizer.dispose();
            tf.dispose(variables);
          },
        };
      },
    );
    contenders.push(contender);
  }
  return contenders;
}
