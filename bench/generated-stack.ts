// A generated `.net` file of a given depth, for benchmarks that need a large model.

/** A stack of about `layers` layers: convolution/ReLU pairs, one pair per line, then a head. */
export function generatedStack(layers: number): string {
  const lines = ["model Deep {", "  input x: [8, 16, 16]"];
  for (let i = 0; i < (layers - 4) / 2; i++) {
    lines.push(`  c${i}: SpatialConvolution(8, kernel=3, pad=1) -> ReLU`);
  }
  lines.push("  Flatten", "  head: Linear(10)", "  LogSoftMax", "}", "criterion NLL", "");
  return lines.join("\n");
}
