// The context resolution passes through: one inlining's scope, and how it reports problems.
import type { Arg, BlockDecl, Call, Expr, ModelDecl, Span } from "../grammar/ast.js";
import { layers } from "./catalog/index.js";
import { atUseSite, diagnostic, type Diagnostic } from "./diagnostics.js";
import type { GraphNode, Term, UseSite } from "./graph.js";
import { suggest } from "./suggest.js";
import type { Task } from "./task.js";
import { mentions, type Binding, type EvalContext } from "./values.js";

/** A node id, or undefined when unknown because of an error already reported. */
export type Ref = number | undefined;

export interface GraphBuilder {
  nodes: GraphNode[];
  terms: Term[];
  /** Set once the model has as many layers as it may (its one "too many layers" is reported). */
  full?: true;
}

/** One inlining of a body: the model's own, or a block's at one use site. */
export interface Instance {
  graph: GraphBuilder;
  env: ReadonlyMap<string, Binding>;
  prefix: string;
  site: UseSite | undefined;
  /** Blocks being inlined, outermost first, to catch recursion. */
  stack: readonly string[];
  /** The value a body's first layer consumes: the model's first input, or a block's `in`. */
  input: { name: string; ref: Ref } | undefined;
  /** A block checked on its own (Resolver.checkAlone): the blocks it uses are not expanded. */
  alone?: true;
}

export type Report = (d: Diagnostic) => void;

/** What a body needs from the resolver: blocks to inline, and where to report. */
export interface BodyHost {
  garbled(decl: ModelDecl | BlockDecl): boolean;
  block(name: string): BlockDecl | undefined;
  blockNames(): Iterable<string>;
  /** The layers an expression expands to, blocks included, before expanding it. */
  layersOf(e: Expr): number;
  emit(d: Diagnostic): void;
  inline(
    decl: BlockDecl,
    call: Call | undefined,
    useRange: Span,
    nodeName: string,
    input: Ref,
    outer: Instance,
  ): Task<Ref>;
}

/** Diagnostics raised while inlining a block point back at the use in the model. */
export function withSite(d: Diagnostic, site: UseSite | undefined): Diagnostic {
  if (!site) return d;
  return {
    ...d,
    related: [
      ...(d.related ?? []),
      { message: `in block ${site.block} used here`, range: site.range },
    ],
  };
}

/**
 * Inside a block, an argument computed from the block's parameters is wrong because of the
 * values at the use site: it is reported there, like a shape error, pointing back at it.
 */
export function fromParamsAtUseSite(
  ctx: EvalContext,
  args: readonly Arg[],
  inst: Pick<Instance, "site" | "env">,
  emit: Report,
): EvalContext {
  const site = inst.site;
  const fromParams = site ? args.filter((a) => mentions(a.value, inst.env)) : [];
  if (!site || fromParams.length === 0) return ctx;
  const report = (d: Diagnostic) => {
    const inArg = fromParams.some((a) => a.range.pos <= d.range.pos && d.range.end <= a.range.end);
    if (!inArg) return ctx.report(d);
    emit(atUseSite(d, site, "computed here from the block's parameters"));
  };
  return { ...ctx, report };
}

export function evalContext(
  env: ReadonlyMap<string, Binding>,
  report: Report,
  values: ReadonlyMap<string, unknown>,
): EvalContext {
  return {
    env,
    report,
    unknownName(name, range) {
      if (values.has(name)) {
        report(
          diagnostic("invalid-expression", range, { detail: `'${name}' is a value, not a number` }),
        );
      } else if (layers.has(name)) {
        report(
          diagnostic("invalid-expression", range, { detail: `'${name}' is a layer, not a number` }),
        );
      } else {
        report(diagnostic("unknown-name", range, { name, suggestion: suggest(name, env.keys()) }));
      }
    },
  };
}
