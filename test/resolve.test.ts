// Name resolution: parameter names (PyTorch style), block inlining, bindings and outputs.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { check, type ModelIR } from "../compiler/index.js";
import { generatedStack } from "../bench/generated-stack.js";

const sample = (name: string) =>
  readFileSync(new URL(`../samples/${name}`, import.meta.url), "utf8");

function params(model: ModelIR): string[] {
  return model.nodes.flatMap((n) => n.params.map((p) => `${p.name}[${p.shape.join(",")}]`));
}

function checkClean(src: string): ModelIR {
  const { diagnostics, models } = check(src);
  expect(diagnostics).toEqual([]);
  return models[0]!;
}

describe("resolve", () => {
  test("lenet5 parameters carry their labels and PyTorch layouts", () => {
    const model = checkClean(sample("lenet5.net"));
    expect(params(model)).toEqual([
      "conv1.weight[6,1,5,5]",
      "conv1.bias[6]",
      "conv2.weight[16,6,5,5]",
      "conv2.bias[16]",
      "fc1.weight[120,400]",
      "fc1.bias[120]",
      "fc2.weight[84,120]",
      "fc2.bias[84]",
      "fc3.weight[10,84]",
      "fc3.bias[10]",
    ]);
    const count = model.nodes
      .flatMap((n) => n.params)
      .reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(count).toBe(61_706);
  });

  test("unlabelled block uses are named by position, their labels prefixed (nn.Sequential style)", () => {
    const model = checkClean(sample("resnet-tiny.net"));
    expect(params(model).filter((p) => p.includes(".a.") || p.includes(".b."))).toEqual([
      "2.a.weight[16,16,3,3]",
      "2.a.bias[16]",
      "2.b.weight[16,16,3,3]",
      "2.b.bias[16]",
      "3.a.weight[16,16,3,3]",
      "3.a.bias[16]",
      "3.b.weight[16,16,3,3]",
      "3.b.bias[16]",
    ]);
  });

  test("repeated layers, blocks and chains are named as PyTorch's nn.Sequential copies", () => {
    const fixture = (name: string) =>
      readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
    const torch = JSON.parse(fixture("repeat-names.json")) as { names: [string, number[]][] };
    const model = checkClean(fixture("repeat-names.net"));
    const netc = model.nodes.flatMap((n) => n.params.map((p) => [p.name, [...p.shape]]));
    expect(netc).toEqual(torch.names);
    // Each repetition consumes the one before: the last convolution's input is the first's output.
    expect(model.nodes.find((n) => n.name === "2.1.0")!.params[0]!.shape).toEqual([16, 16, 3, 3]);
  });

  test("a labelled block use prefixes its layers with the label", () => {
    const src = `block Pair(c, k=3) {
  a: SpatialConvolution(c, kernel=k, pad=(k - 1) / 2) -> ReLU
  b: SpatialConvolution(c, kernel=k, pad=(k - 1) / 2)
}
model M {
  input x: [3, 16, 16]
  stage1: Pair(8)
  stage2: Pair(16, k=5)
}
`;
    const model = checkClean(src);
    expect(params(model)).toEqual([
      "stage1.a.weight[8,3,3,3]",
      "stage1.a.bias[8]",
      "stage1.b.weight[8,8,3,3]",
      "stage1.b.bias[8]",
      "stage2.a.weight[16,8,5,5]",
      "stage2.a.bias[16]",
      "stage2.b.weight[16,16,5,5]",
      "stage2.b.bias[16]",
    ]);
    expect(model.nodes[model.nodes.length - 1]!.shape).toEqual([16, 16, 16]);
  });

  test("bindings may be used before the line that defines them", () => {
    const src = `model M {
  input x: [4]
  y = h -> Linear(2)
  h = x -> Linear(3) -> ReLU
  output y
}
`;
    const model = checkClean(src);
    expect(model.outputs.map((o) => o.name)).toEqual(["y"]);
    expect(model.nodes.find((n) => n.id === model.outputs[0]!.node)!.shape).toEqual([2]);
  });

  test("explicit input sizes that agree are accepted", () => {
    const src = `model M {
  input x: [3, 8, 8]
  SpatialConvolution(3 -> 4, kernel=3)
  Flatten
  Linear(144 -> 10)
}
`;
    expect(checkClean(src).nodes.map((n) => n.shape.join("x"))).toEqual([
      "3x8x8",
      "4x6x6",
      "144",
      "10",
    ]);
  });

  test("terms of the model body map to their nodes for editor shapes", () => {
    const src = sample("tiny-unet.net");
    const model = checkClean(src);
    const shapeOf = (text: string) => {
      const term = model.terms.find((t) => src.slice(t.range.pos, t.range.end) === text)!;
      return model.nodes.find((n) => n.id === term.node)!.shape.join("x");
    };
    expect(shapeOf("DoubleConv(16)")).toBe("16x16x16");
    expect(shapeOf("Concat(e1, u1)")).toBe("24x32x32");
  });

  test("a generated 1,000-layer stack checks clean", () => {
    expect(checkClean(generatedStack(1000)).nodes.length).toBe(1000);
  });
});
