// Elementwise activations as JavaScript: the rows of ops.ts rendered to expressions, the standalone
// kernel and the derivative-and-bias-gradient pass.
import { activationRow, erf, type Activation, type Formula } from "../../../ops.js";
import { assign, type KernelEmitter } from "./kernel.js";

const unary = {
  neg: "-",
  abs: "Math.abs",
  exp: "Math.exp",
  expm1: "Math.expm1",
  log1p: "Math.log1p",
  tanh: "Math.tanh",
  erf: "erf",
};

/**
 * Functions the formulas call that JavaScript lacks, by name: the statement that defines each,
 * which the kernels include where they use it (bound by name, so that a minifier renaming the
 * function itself changes nothing).
 */
export const jsHelpers: Readonly<Record<string, string>> = { erf: `const erf = (${String(erf)});` };
const binary = { add: "+", sub: "-", mul: "*", div: "/" };

/** A formula as a JavaScript expression of `v`, an expression without side effects. */
export function jsFormula(f: Formula, v: string): string {
  switch (f.op) {
    case "v":
      return v;
    case "const":
      return f.value < 0 || Object.is(f.value, -0) ? `(${f.value})` : String(f.value);
    case "add":
    case "sub":
    case "mul":
    case "div":
      return `(${jsFormula(f.a, v)} ${binary[f.op]} ${jsFormula(f.b, v)})`;
    case "neg":
      return `(-${jsFormula(f.a, v)})`;
    case "select":
      return `(${jsFormula(f.a, v)} ${f.cmp} ${jsFormula(f.b, v)} ? ${jsFormula(f.then, v)} : ${jsFormula(f.otherwise, v)})`;
    default:
      return `${unary[f.op]}(${jsFormula(f.a, v)})`;
  }
}

/** act(v) as JavaScript. */
export const jsActivation = (act: Activation, v: string): string =>
  jsFormula(activationRow(act).f(act), v);

/** y = act(x), elementwise over N · size. */
export const activation: KernelEmitter<"activation"> = ({ ins, outs, a }) =>
  `for (let i = 0; i < N * ${a.size}; i++) { const v = f[${ins[0]} + i]; f[${outs[0]} + i] = ${jsActivation(a.act, "v")}; }`;

/**
 * dx = dy · act'(y) (dx may be dy itself, in place), and with `bias` also the bias gradient:
 * the first input is y, or x for an activation whose derivative needs it;
 * the sum of dx over the batch and the C channels' S spatial positions — one pass for both.
 */
export const activationGrad: KernelEmitter<"activation_grad"> = ({ ins, outs, a, acc }) => {
  const { act, C, S } = a;
  const grad = act ? jsFormula(activationRow(act).df(act), `f[${ins[0]} + i]`) : "1";
  const dx = act ? outs[0] : undefined;
  const db = a.bias ? outs[act ? 1 : 0] : undefined;
  const lines = [];
  if (db) lines.push(`for (let c = 0; c < ${C}; c++) f[${db} + c] = 0;`);
  lines.push(`for (let n = 0; n < N; n++) for (let c = 0; c < ${C}; c++) {`);
  if (db) lines.push(`  let s = 0;`);
  lines.push(`  for (let i = (n * ${C} + c) * ${S}, e = i + ${S}; i < e; i++) {`);
  lines.push(`    const g = f[${ins[1]} + i] * ${grad};`);
  if (dx) lines.push(`    f[${dx} + i] ${assign(acc)} g;`);
  if (db) lines.push(`    s += g;`);
  lines.push(`  }`);
  if (db) lines.push(`  f[${db} + c] += s;`);
  lines.push(`}`);
  return lines.join("\n");
};
