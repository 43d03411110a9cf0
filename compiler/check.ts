// check(text): parse, resolve, infer shapes and check criterion and training settings.
import type { BlockDecl, NetFile } from "../grammar/ast.js";
import { parse as parseSyntax, type SyntaxProblem } from "../grammar/index.js";
import { OffsetSet } from "../grammar/offsets.js";
import { checkCriterion } from "./criterion.js";
import { freezeNodes, freezeScope, type FreezeScope } from "./freeze.js";
import { diagnostic, type Diagnostic } from "./diagnostics.js";
import type { ModelIR } from "./ir.js";
import { Resolver } from "./resolve.js";
import { checkMemory, inferShapes } from "./shapes.js";
import { checkTrain } from "./train.js";

export interface CheckResult {
  ast: NetFile;
  diagnostics: Diagnostic[];
  models: ModelIR[];
}

const syntaxDiagnostic = (p: SyntaxProblem): Diagnostic =>
  diagnostic(p.code, p.range, { message: p.message });

/** parse(text) → { ast, diagnostics }: the syntax tree with its syntax errors as diagnostics. */
export function parse(text: string): { ast: NetFile; diagnostics: Diagnostic[] } {
  const { ast, problems } = parseSyntax(text);
  return { ast, diagnostics: problems.map(syntaxDiagnostic) };
}

export function check(text: string): CheckResult {
  const { ast, diagnostics: syntax } = parse(text);
  const diagnostics: Diagnostic[] = [...syntax];
  const report = (d: Diagnostic) => diagnostics.push(d);

  const blocks = new Map<string, BlockDecl>();
  const modelNames = new Set<string>();
  for (const decl of ast.decls) {
    if (decl.kind !== "Block" && decl.kind !== "Model") continue;
    const names = decl.kind === "Block" ? blocks : modelNames;
    if (names.has(decl.name.name)) {
      report(
        diagnostic("duplicate-declaration", decl.name.range, {
          kind: decl.kind.toLowerCase(),
          name: decl.name.name,
        }),
      );
    } else if (decl.kind === "Block") {
      blocks.set(decl.name.name, decl);
    } else {
      modelNames.add(decl.name.name);
    }
  }

  const resolver = new Resolver(blocks, report, new OffsetSet(syntax.map((d) => d.range.pos)));
  const models: ModelIR[] = [];
  const has = new Map<ModelIR, Set<string>>();
  const outputNames = new Map<ModelIR, string[]>();
  const freezable = new Map<ModelIR, FreezeScope>();
  for (const decl of ast.decls) {
    if (decl.kind === "Model") {
      const graph = resolver.model(decl);
      const typed = inferShapes(graph, report);
      const model: ModelIR = {
        name: graph.name,
        range: graph.range,
        nodes: [...typed.values()],
        inputs: graph.inputs,
        outputs: graph.outputs,
        terms: graph.terms.filter((t) => typed.has(t.node)),
        criterion: [],
        train: {},
      };
      checkMemory(model, decl.name.range, report);
      models.push(model);
      has.set(model, new Set());
      outputNames.set(model, graph.outputNames);
      freezable.set(model, freezeScope(model.name, graph.nodes, typed));
      continue;
    }
    if (decl.kind === "Block") continue;
    const kind = decl.kind === "Criterion" ? "criterion" : "train";
    const model = models[models.length - 1];
    // At the keyword: a whole `train { ... }` block is too much to underline.
    const keyword = { pos: decl.range.pos, end: decl.range.pos + kind.length };
    if (!model) {
      report(diagnostic("orphan-declaration", keyword, { kind }));
      continue;
    }
    if (has.get(model)!.has(kind)) {
      report(diagnostic("duplicate-declaration-for-model", keyword, { kind, model: model.name }));
      continue;
    }
    has.get(model)!.add(kind);
    if (decl.kind === "Criterion") {
      const nodes = new Map(model.nodes.map((n) => [n.id, n]));
      model.criterion = checkCriterion(
        decl,
        {
          name: model.name,
          outputs: model.outputs,
          outputNames: outputNames.get(model)!,
          nodes,
          text,
        },
        report,
      );
    } else {
      const shapes = new Map(model.nodes.map((n) => [n.id, n.shape]));
      const inputs = model.inputs.map((i) => ({ name: i.name, shape: shapes.get(i.node) }));
      model.train = checkTrain(decl, report, inputs, freezable.get(model)!);
      if (model.train.freeze) model.nodes = freezeNodes(model.nodes, model.train.freeze);
    }
  }

  const unexpanded = [...blocks.values()].filter((b) => !resolver.expanded.has(b.name.name));
  for (const block of unexpanded) resolver.checkAlone(block);
  for (const block of unexpanded) {
    if (!resolver.instantiated.has(block.name.name)) {
      report(diagnostic("unused-block", block.name.range, { name: block.name.name }));
    }
  }
  return { ast, diagnostics: sortAndDedupe(diagnostics), models };
}

/** Inlining a block twice can raise one problem twice: keep the first, in source order. */
function sortAndDedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list
    .filter((d) => {
      const key = `${d.code}|${d.range.pos}|${d.range.end}|${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.range.pos - b.range.pos || a.range.end - b.range.end);
}
