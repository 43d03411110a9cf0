// Name resolution: models and blocks become graphs of layer nodes (blocks inlined, names bound).
import type { BlockDecl, Call, Expr, ModelDecl, Span } from "../grammar/ast.js";
import { OffsetSet } from "../grammar/offsets.js";
import { diagnostic, type Diagnostic } from "./diagnostics.js";
import { formatCount } from "./units.js";
import type { ModelGraph } from "./graph.js";
import { BlockGraph } from "./block-graph.js";
import { MAX_BLOCK_DEPTH, MAX_LAYERS } from "./limits.js";
import { argumentAliases } from "./pytorch-names.js";
import { suggest } from "./suggest.js";
import { runTask, wait, type Task } from "./task.js";
import { evaluate, type Binding } from "./values.js";
import { Body } from "./resolve-body.js";
import {
  evalContext,
  fromParamsAtUseSite,
  withSite,
  type BodyHost,
  type GraphBuilder,
  type Instance,
  type Ref,
  type Report,
} from "./resolve-context.js";

export class Resolver implements BodyHost {
  /** Blocks used anywhere: by a model, or by another block. */
  readonly instantiated = new Set<string>();
  /** Blocks whose body some use expanded, and so checked. */
  readonly expanded = new Set<string>();
  private readonly graph: BlockGraph;

  constructor(
    private readonly blocks: ReadonlyMap<string, BlockDecl>,
    private readonly report: Report,
    /** Where syntax errors are: see `garbled`. */
    private readonly syntaxErrors: OffsetSet = new OffsetSet([]),
  ) {
    this.graph = new BlockGraph(blocks);
  }

  /**
   * Whether a declaration has a syntax error: a line the parser could not read may be the one
   * that uses a value, so its values are not reported unused.
   */
  garbled(decl: ModelDecl | BlockDecl): boolean {
    return this.syntaxErrors.someIn(decl.range.pos, decl.range.end);
  }

  model(decl: ModelDecl): ModelGraph {
    const graph: GraphBuilder = { nodes: [], terms: [] };
    if (decl.recovered) {
      // Its body is lost to a syntax error: nothing more to say about it.
      const { name, range } = decl;
      return {
        name: name.name,
        range,
        nodes: [],
        inputs: [],
        outputs: [],
        outputNames: [],
        terms: [],
      };
    }
    const body = new Body(this, decl.body, {
      graph,
      env: new Map(),
      prefix: "",
      site: undefined,
      stack: [],
      input: undefined,
    });
    const { inputs, outputs, outputNames } = runTask(body.run("model", decl));
    return {
      name: decl.name.name,
      range: decl.range,
      nodes: graph.nodes,
      inputs,
      outputs,
      outputNames,
      terms: graph.terms,
    };
  }

  /**
   * Checks a block no use expanded (unused, or its uses failed) with unknown parameters and
   * input: names and arguments only. The blocks it uses get their arguments bound but are not
   * expanded: each is checked alone in turn, and expanding them here would only repeat that,
   * for a cost that can double with each level of nesting.
   */
  checkAlone(decl: BlockDecl): void {
    if (decl.recovered) return;
    const env = new Map(
      decl.params.map((p) => [p.name.name, { value: undefined, range: p.name.range }]),
    );
    const inst: Instance = {
      graph: { nodes: [], terms: [] },
      env,
      prefix: "",
      site: undefined,
      stack: [decl.name.name],
      input: { name: "in", ref: undefined },
      alone: true,
    };
    runTask(new Body(this, decl.body, inst).run("block", decl));
  }

  /** Inlines block `decl` used by `call` on `input`; returns its output. */
  *inline(
    decl: BlockDecl,
    call: Call | undefined,
    useRange: Span,
    nodeName: string,
    input: Ref,
    outer: Instance,
  ): Task<Ref> {
    const name = decl.name.name;
    this.instantiated.add(name);
    if (outer.stack.includes(name)) {
      const path = [...outer.stack.slice(outer.stack.indexOf(name)), name].join(" -> ");
      this.report(diagnostic("recursive-block", useRange, { path }));
      return undefined;
    }
    // Arguments the parser recovered in are a guess (see `quiet`), and a body lost to a syntax
    // error has nothing to inline: no errors from them.
    if (call?.recovered || decl.recovered) return undefined;
    if (outer.stack.length >= MAX_BLOCK_DEPTH) {
      const message = `blocks nested more than ${formatCount(MAX_BLOCK_DEPTH)} deep`;
      this.report(withSite(diagnostic("nesting-too-deep", useRange, { message }), outer.site));
      return undefined;
    }
    // At the outermost use, before anything is expanded: past the budget, nothing is.
    const layers = outer.site || outer.alone ? 0 : this.graph.layers(name);
    if (outer.graph.nodes.length + layers > MAX_LAYERS) {
      this.report(diagnostic("too-many-layers", useRange, { what: `block ${name}`, layers }));
      return undefined;
    }
    const site = outer.site ?? { block: name, range: useRange };
    const ctx = fromParamsAtUseSite(
      evalContext(outer.env, (d) => this.report(withSite(d, outer.site)), new Map()),
      call?.args ?? [],
      outer,
      this.report,
    );
    const env = new Map<string, Binding>();
    const args = call?.args ?? [];
    let ok = true;
    let position = 0;
    let seenNamed = false;
    // As in bindArgs: no "missing" for a parameter an unknown name or a misplaced value stands for.
    const excused = new Set<string>();
    let misplaced = false;
    for (const arg of args) {
      if (!arg.name && seenNamed) {
        ok = false;
        misplaced = true;
        this.report(withSite(diagnostic("positional-after-named", arg.range, {}), outer.site));
        continue;
      }
      seenNamed ||= arg.name !== undefined;
      const param = arg.name
        ? decl.params.find((p) => p.name.name === arg.name!.name)
        : decl.params[position++];
      if (!param) {
        ok = false;
        if (arg.name) {
          const names = decl.params.map((p) => p.name.name);
          const suggestion = suggest(arg.name.name, names, argumentAliases(names));
          if (suggestion) excused.add(suggestion);
          this.report(
            withSite(
              diagnostic("unknown-argument", arg.name.range, {
                layer: name,
                name: arg.name.name,
                suggestion,
              }),
              outer.site,
            ),
          );
        } else {
          this.report(
            withSite(
              diagnostic("too-many-arguments", arg.range, {
                layer: name,
                count: args.filter((a) => !a.name).length,
                max: decl.params.length,
              }),
              outer.site,
            ),
          );
        }
        continue;
      }
      if (env.has(param.name.name)) {
        ok = false;
        this.report(
          withSite(
            diagnostic("duplicate-argument", arg.name?.range ?? arg.range, {
              name: param.name.name,
            }),
            outer.site,
          ),
        );
        continue;
      }
      env.set(param.name.name, { value: evaluate(arg.value, ctx), range: arg.range });
    }
    const missing: string[] = [];
    for (const param of decl.params) {
      if (env.has(param.name.name)) continue;
      if (param.default) {
        const defaults = evalContext(env, this.report, new Map());
        env.set(param.name.name, {
          value: evaluate(param.default, defaults),
          range: param.default.range,
        });
      } else {
        missing.push(param.name.name);
      }
    }
    const unexcused = misplaced ? [] : missing.filter((m) => !excused.has(m));
    if (unexcused.length > 0) {
      const signature = blockSignature(decl);
      const at = call?.argsRange ?? useRange;
      this.report(
        withSite(
          diagnostic("missing-argument", at, { layer: name, names: unexcused, signature }),
          outer.site,
        ),
      );
    }
    if (!ok || missing.length > 0) return undefined;
    if (outer.alone) {
      // Not expanded (see checkAlone), so recursion is found in the source instead.
      const path = this.graph.path(name, outer.stack[0]!);
      if (path)
        this.report(
          diagnostic("recursive-block", useRange, { path: [outer.stack[0], ...path].join(" -> ") }),
        );
      return undefined;
    }
    this.expanded.add(name);
    const inst: Instance = {
      graph: outer.graph,
      env,
      prefix: `${outer.prefix}${nodeName}.`,
      site,
      stack: [...outer.stack, name],
      input: { name: "in", ref: input },
    };
    const { outputs } = yield* wait(new Body(this, decl.body, inst).run("block", decl));
    return outputs[0]?.node;
  }

  layersOf(e: Expr): number {
    return this.graph.exprLayers(e);
  }

  block(name: string): BlockDecl | undefined {
    return this.blocks.get(name);
  }

  blockNames(): Iterable<string> {
    return this.blocks.keys();
  }

  emit(d: Diagnostic): void {
    this.report(d);
  }
}

/** `Stage(c, stride=1)`: a block's parameters, with simple defaults spelt out. */
function blockSignature(decl: BlockDecl): string {
  const params = decl.params.map((p) => {
    const d = p.default;
    if (!d) return p.name.name;
    const text =
      d.kind === "Number" || d.kind === "Bool"
        ? String(d.value)
        : d.kind === "Name"
          ? d.name
          : "...";
    return `${p.name.name}=${text}`;
  });
  return `${decl.name.name}(${params.join(", ")})`;
}
