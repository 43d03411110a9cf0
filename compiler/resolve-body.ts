// One body (a model's or an inlined block's): its values, layer positions, chains and outputs.
import type { BlockDecl, Call, Expr, Ident, ModelDecl, Span, Stmt } from "../grammar/ast.js";
import { bindArgs, formatSignature, type BoundArgs } from "./bind-args.js";
import { layerAliases, layers } from "./catalog/index.js";
import type { LayerDef } from "./catalog/types.js";
import { diagnostic, type Diagnostic } from "./diagnostics.js";
import { MAX_LAYERS } from "./limits.js";
import type { GraphNode, NamedNode } from "./graph.js";
import { asRepeat, type Repeat } from "./repeat.js";
import { torchModule, torchSignature, translateTorchCall, unqualified } from "./pytorch-names.js";
import { suggest } from "./suggest.js";
import { formatCount } from "./units.js";
import { done, wait, type Task } from "./task.js";
import { describeValue, evaluate, quiet, type EvalContext } from "./values.js";
import {
  evalContext,
  fromParamsAtUseSite,
  withSite,
  type BodyHost,
  type Instance,
  type Ref,
  type Report,
} from "./resolve-context.js";

interface ValueSlot {
  name: string;
  range: Span;
  ref: Ref;
  state: "pending" | "busy" | "done";
  used: boolean;
  /** The statement computing it; none for inputs and `in`. */
  stmt?: Stmt;
  /** Inputs and bindings must be used; `in` need not be. */
  mustUse: boolean;
}

/** The value a layer consumes, and how it reads in a message. */
interface Source {
  ref: Ref;
  name: string;
}

/**
 * One body being inlined: its values, layer positions and labels. What may wait on other work
 * (a value defined further down, a block to inline) is a `Task`, so nesting is not recursion.
 */
export class Body {
  private readonly values = new Map<string, ValueSlot>();
  private readonly slots: ValueSlot[] = [];
  /** Each statement slot's position, so the one before it is found without a search. */
  private readonly slotIndex = new Map<ValueSlot, number>();
  private readonly positions = new Map<Expr, number>();
  private readonly evaluating: string[] = [];
  private readonly report: Report;
  private readonly ctx: EvalContext;

  constructor(
    private readonly resolver: BodyHost,
    private readonly body: readonly Stmt[],
    private readonly inst: Instance,
  ) {
    this.report = (d) => resolver.emit(withSite(d, inst.site));
    this.ctx = evalContext(inst.env, this.report, this.values);
  }

  *run(
    kind: "model" | "block",
    decl: ModelDecl | BlockDecl,
  ): Task<{ inputs: NamedNode[]; outputs: NamedNode[]; outputNames: string[] }> {
    const declName = decl.name;
    const inputs: NamedNode[] = [];
    if (this.inst.input)
      this.define(this.inst.input.name, declName.range, this.inst.input.ref, false);
    for (const stmt of this.body) {
      if (stmt.kind === "Input") {
        if (kind === "block") {
          this.report(diagnostic("input-in-block", stmt.range, {}));
          continue;
        }
        const ref = this.inputNode(stmt.name, stmt.shape);
        const slot = this.define(stmt.name.name, stmt.name.range, ref, true);
        if (slot) inputs.push({ name: stmt.name.name, node: ref ?? -1, range: stmt.name.range });
        this.inst.input ??= { name: stmt.name.name, ref };
      } else if (stmt.kind === "Bind") {
        const slot = this.define(stmt.name.name, stmt.name.range, undefined, true);
        if (slot) {
          slot.state = "pending";
          slot.stmt = stmt;
          this.slots.push(slot);
        } else {
          this.slots.push({
            name: "",
            range: stmt.range,
            ref: undefined,
            state: "pending",
            used: true,
            stmt,
            mustUse: false,
          });
        }
      } else if (stmt.kind === "Chain") {
        this.slots.push({
          name: "",
          range: stmt.range,
          ref: undefined,
          state: "pending",
          used: false,
          stmt,
          mustUse: false,
        });
      }
    }
    if (kind === "model" && inputs.length === 0) {
      this.report(diagnostic("missing-input", declName.range, { model: declName.name }));
    }
    if (this.slots.length === 0) {
      this.report(diagnostic("empty-body", declName.range, { kind, name: declName.name }));
    }
    this.numberLayers();
    this.slots.forEach((slot, i) => this.slotIndex.set(slot, i));
    for (const slot of this.slots) yield* wait(this.evaluateSlot(slot));
    const outputs = yield* wait(this.outputs(kind, declName));
    // In an empty body nothing can use the input: "has no layers" says it all.
    const mayBeUnused = this.slots.length > 0 && !this.resolver.garbled(decl);
    for (const slot of mayBeUnused ? this.values.values() : []) {
      if (slot.mustUse && !slot.used)
        this.report(diagnostic("unused-value", slot.range, { name: slot.name, input: !slot.stmt }));
    }
    return {
      inputs: inputs.filter((i) => i.node >= 0),
      outputs: outputs.filter((o) => o.node >= 0),
      outputNames: outputs.map((o) => o.name),
    };
  }

  private define(name: string, range: Span, ref: Ref, mustUse: boolean): ValueSlot | undefined {
    if (this.values.has(name) || this.inst.env.has(name)) {
      this.report(diagnostic("duplicate-name", range, { name }));
      return undefined;
    }
    const slot: ValueSlot = { name, range, ref, state: "done", used: false, mustUse };
    this.values.set(name, slot);
    return slot;
  }

  private inputNode(name: Ident, shapeExpr: Expr): Ref {
    const v = evaluate(shapeExpr, this.ctx);
    if (v === undefined) return undefined;
    const dims =
      v.kind === "tuple" &&
      v.items.length > 0 &&
      v.items.every((i) => i.kind === "int" && i.value >= 1);
    if (!dims) {
      const detail = `must be a list of positive integers such as [1, 28, 28], got ${describeValue(v)}`;
      this.report(diagnostic("invalid-input-shape", shapeExpr.range, { detail }));
      return undefined;
    }
    const shape = v.items.map((i) => (i as { value: number }).value);
    return this.addNode({
      op: "Input",
      name: name.name,
      inputs: [],
      inputNames: [],
      args: { shape },
      argRanges: {},
      valueRanges: {},
      range: name.range,
    });
  }

  private addNode(node: Omit<GraphNode, "id" | "site">): Ref {
    const graph = this.inst.graph;
    const id = graph.nodes.length;
    // Blocks are checked before they are expanded (Resolver.inline): this is for the layers
    // written out one by one.
    if (id >= MAX_LAYERS) {
      if (!graph.full) this.report(diagnostic("too-many-layers", node.range, {}));
      graph.full = true;
      return undefined;
    }
    graph.nodes.push(this.inst.site ? { id, ...node, site: this.inst.site } : { id, ...node });
    return id;
  }

  /** Positions (nn.Sequential-style names) and label checks for every layer term, in source order. */
  private numberLayers(): void {
    let position = 0;
    const labels = new Set<string>();
    const visit = (e: Expr, first: boolean): void => {
      switch (e.kind) {
        case "Chain":
          e.steps.forEach((s, i) => visit(s, first && i === 0));
          return;
        case "Labeled":
          if (labels.has(e.label.name))
            this.report(diagnostic("duplicate-label", e.label.range, { label: e.label.name }));
          labels.add(e.label.name);
          this.positions.set(e, position);
          visit(e.expr, false);
          return;
        case "Binary":
          // A repeat (`Block * 2`) is one position; its repetitions are numbered under it.
          if (asRepeat(e) && !this.positions.has(e)) this.positions.set(e, position++);
          return;
        case "Name":
        case "Call": {
          const name = e.kind === "Name" ? e.name : e.callee.name;
          if (first && this.values.has(name)) return;
          if (!this.positions.has(e)) this.positions.set(e, position++);
          if (e.kind === "Call" && layers.get(name)?.inputs === "many")
            e.args.forEach((a) => visit(a.value, true));
          return;
        }
        default:
          return;
      }
    };
    for (const slot of this.slots) {
      const stmt = slot.stmt!;
      if (stmt.kind === "Bind" || stmt.kind === "Chain") visit(stmt.value, true);
    }
  }

  private *evaluateSlot(slot: ValueSlot): Task<Ref> {
    if (slot.state === "done") return slot.ref;
    if (slot.state === "busy") return undefined;
    slot.state = "busy";
    if (slot.name) this.evaluating.push(slot.name);
    const stmt = slot.stmt as Extract<Stmt, { value: Expr }>;
    const index = this.slotIndex.get(slot)!;
    slot.ref = yield* wait(this.chain(stmt.value, () => this.previous(index), true));
    if (slot.name) this.evaluating.pop();
    slot.state = "done";
    return slot.ref;
  }

  /** The value a statement's first layer consumes: the previous statement's, or the body input. */
  private *previous(index: number): Task<Source> {
    const prev = this.slots[index - 1];
    if (prev) {
      prev.used = true;
      if (prev.state === "busy") {
        this.reportCycle(prev, prev.stmt!.range);
        return { ref: undefined, name: prev.name };
      }
      const ref = yield* wait(this.evaluateSlot(prev));
      return { ref, name: prev.name || this.describe(ref) };
    }
    const input = this.inst.input;
    if (!input) return { ref: undefined, name: "input" };
    const slot = this.values.get(input.name);
    if (slot) slot.used = true;
    return { ref: input.ref, name: input.name };
  }

  private reportCycle(slot: ValueSlot, at: Span): void {
    const start = this.evaluating.indexOf(slot.name);
    const names = start >= 0 ? this.evaluating.slice(start) : [slot.name];
    this.report(
      diagnostic("cycle", at, { path: [...names, names[0]].filter(Boolean).join(" -> ") }),
    );
  }

  /** How a node reads in a message. */
  private describe(ref: Ref): string {
    const node = ref === undefined ? undefined : this.inst.graph.nodes[ref];
    if (!node) return "the value";
    return node.op === "Input" ? node.name : `${node.op} '${node.name}'`;
  }

  private *valueRef(name: string, range: Span): Task<Ref> {
    const slot = this.values.get(name)!;
    slot.used = true;
    if (slot.state === "busy") {
      this.reportCycle(slot, range);
      return undefined;
    }
    return yield* wait(this.evaluateSlot(slot));
  }

  /**
   * A chain `a -> B -> C`. `incoming` is what its first layer consumes when it does not
   * start from a named value; undefined where a value must be named (Concat/Add arguments).
   */
  private *chain(
    expr: Expr,
    incoming: (() => Task<Source>) | undefined,
    topLevel: boolean,
  ): Task<Ref> {
    const steps = expr.kind === "Chain" ? expr.steps : [expr];
    let current: Source | undefined;
    for (const [i, step] of steps.entries()) {
      if (i === 0 && step.kind === "Name" && this.values.has(step.name)) {
        current = { ref: yield* wait(this.valueRef(step.name, step.range)), name: step.name };
        continue;
      }
      if (i === 0 && !incoming && !isManyInputLayer(step)) {
        if (step.kind === "Name" && !this.isLayerName(step.name) && !this.inst.env.has(step.name))
          this.unknownValue(step.name, step.range);
        else if (step.kind !== "Missing")
          this.report(diagnostic("not-a-value", step.range, { what: describeExpr(step) }));
        current = { ref: undefined, name: "" };
        continue;
      }
      const piped = i === 0 ? undefined : current;
      const source = piped ? () => done(piped) : incoming;
      const ref = yield* wait(this.layer(step, piped, source, i === 0 && steps.length > 1));
      if (topLevel && !this.inst.site && this.inst.prefix === "" && ref !== undefined) {
        this.inst.graph.terms.push({ range: step.range, node: ref });
      }
      current = { ref, name: this.describe(ref) };
    }
    return current?.ref;
  }

  /**
   * Applies one layer (or block) term to the value it consumes. `startsChain`: the term is the
   * first of a chain with more steps (`x -> ReLU`), where a bare name reads as a value.
   */
  private *layer(
    step: Expr,
    piped: Source | undefined,
    source: (() => Task<Source>) | undefined,
    startsChain = false,
    /** The name in this body: the step's label or position unless a repeat numbers it. */
    local?: string,
  ): Task<Ref> {
    const labeled = step.kind === "Labeled" ? step : undefined;
    const term = labeled ? labeled.expr : step;
    local ??= labeled?.label.name ?? String(this.positions.get(step) ?? 0);
    const repeat = asRepeat(term);
    if (repeat) return yield* wait(this.repeat(repeat, local, source));
    if (term.kind !== "Name" && term.kind !== "Call") {
      // Consumed all the same, so the value feeding it is not also "unused".
      if (source) yield* wait(source());
      if (term.kind !== "Missing") {
        if (labeled)
          this.report(
            diagnostic("label-not-allowed", labeled.label.range, { label: labeled.label.name }),
          );
        else this.report(diagnostic("not-a-layer", term.range, { what: describeExpr(term) }));
      }
      return undefined;
    }
    const name = term.kind === "Name" ? term.name : term.callee.name;
    const nameRange = term.kind === "Name" ? term.range : term.callee.range;
    const nodeName = this.inst.prefix + local;
    const def = layers.get(name);
    if (def?.inputs === "many") return yield* wait(this.manyInputLayer(def, term, piped, nodeName));
    const block = def ? undefined : this.resolver.block(name);
    // `nn.Linear` is netc's own Linear, `nn.Conv2d` the alias of a netc layer.
    const bare = unqualified(name);
    const layerSuggestion =
      def || block
        ? undefined
        : bare !== name && layers.has(bare)
          ? bare
          : suggest(bare, [...layers.keys(), ...this.resolver.blockNames()], layerAliases);
    // `out = hiden -> Linear(2)`: a bare name starting a chain that is no layer but close to a
    // value is a misspelt value, not a layer that would consume the previous statement; so is
    // any such name that a chain goes on from (`x -> ReLU`), which can only be read as a value.
    const unbound = !this.values.has(name) && !this.inst.env.has(name);
    if (!def && !block && !piped && !layerSuggestion && term.kind === "Name" && unbound) {
      if (startsChain || suggest(name, this.values.keys())) {
        // What it would have consumed is taken as meant, so it is not also reported unused.
        if (source) yield* wait(source());
        this.unknownValue(name, nameRange);
        return undefined;
      }
    }
    // The value that would feed the layer is consumed even when the layer is wrong, so it
    // is not also reported unused.
    const input = source ? yield* wait(source()) : undefined;
    // `Relu`, `Conv2d`: reported below, but checking goes on with the layer surely meant, so
    // one typo does not hide the shapes (and the mistakes) after it.
    const meant =
      layerSuggestion && isConfident(bare, layerSuggestion)
        ? layers.get(layerSuggestion)
        : undefined;
    // `Conv2d(1, 6, kernel_size=5)`: PyTorch's module, rewritten whole by the quick fix.
    const translation =
      meant && term.kind === "Call" && torchModule(meant.name) === bare
        ? translateTorchCall(term, meant)
        : undefined;
    if (meant)
      this.report(
        diagnostic(
          "unknown-layer",
          nameRange,
          { name, suggestion: layerSuggestion },
          translation ? { fixes: [translation.fix] } : {},
        ),
      );
    const layer = def ?? meant;
    if (layer) {
      const callArgs = translation?.args ?? (term.kind === "Call" ? term.args : []);
      const ctx =
        (term.kind === "Call" && term.recovered) || meant
          ? quiet(this.ctx)
          : fromParamsAtUseSite(this.ctx, callArgs, this.inst, (d) => this.resolver.emit(d));
      const bound =
        def && term.kind === "Call" && torchModule(def.name) === def.name
          ? bindOrTranslate(def, term, ctx)
          : bindArgs(
              layer.name,
              layer.args,
              callArgs,
              term.kind === "Call" ? term.argsRange : term.range,
              ctx,
            );
      if (!bound || input?.ref === undefined) return undefined;
      return this.addNode({
        op: layer.name,
        name: nodeName,
        inputs: [input.ref],
        inputNames: [input.name],
        ...bound,
        range: step.range,
      });
    }
    if (block) {
      return yield* wait(
        this.resolver.inline(
          block,
          term.kind === "Call" ? term : undefined,
          step.range,
          nodeName.slice(this.inst.prefix.length),
          input?.ref,
          this.inst,
        ),
      );
    }
    const value = this.values.get(name);
    if (value || this.inst.env.has(name)) {
      if (value) value.used = true; // misused, but referenced: one error is enough
      const what = value ? `the value '${name}'` : `the block parameter '${name}'`;
      this.report(diagnostic("not-a-layer", nameRange, { what }));
      return undefined;
    }
    this.report(diagnostic("unknown-layer", nameRange, { name, suggestion: layerSuggestion }));
    return undefined;
  }

  /**
   * `X * n`: X applied n times, each repetition to the output of the one before, named
   * `local.0` … `local.(n-1)` as the modules of an nn.Sequential of n copies would be. The
   * layer budget is checked before anything is repeated; a repetition that fails stops it,
   * so a mistake in X is reported once.
   */
  private *repeat(r: Repeat, local: string, source: (() => Task<Source>) | undefined): Task<Ref> {
    const input = source ? yield* wait(source()) : undefined;
    if (!this.repeatable(r)) return undefined;
    const count = this.repeatCount(r);
    if (count === null) return undefined;
    // A block checked alone expands nothing, and a count not known there: its body is checked
    // once.
    let times = this.inst.alone ? 1 : (count ?? 1);
    let current: Source = input ?? { ref: undefined, name: "" };
    // Nothing expands on an unknown input (after an error, or past the budget outside).
    if (count !== undefined && !this.inst.alone && current.ref !== undefined) {
      const layers = Math.max(1, this.resolver.layersOf(r.body)) * count;
      if (this.inst.graph.nodes.length + layers > MAX_LAYERS) {
        const what = `${this.repeated(r.body)} repeated ${formatCount(count)} times`;
        this.report(diagnostic("too-many-layers", r.expr.range, { what, layers }));
        // Past the budget, the body is still checked once, on no input: nothing is expanded.
        times = 1;
        current = { ref: undefined, name: "" };
      }
    }
    for (let i = 0; i < times; i++) {
      const ref = yield* wait(this.repetition(r.body, `${local}.${i}`, current));
      if (ref === undefined) return undefined;
      current = { ref, name: this.describe(ref) };
    }
    return current.ref;
  }

  /** One repetition: a layer or block named `local`, or a chain numbered under it like a body. */
  private *repetition(body: Expr, local: string, input: Source): Task<Ref> {
    if (body.kind !== "Chain" && body.kind !== "Labeled")
      return yield* wait(this.layer(body, input, () => done(input), false, local));
    const range = body.range;
    const stmt: Stmt = { kind: "Chain", value: body, range };
    const decl: BlockDecl = {
      kind: "Block",
      name: { name: local, range },
      params: [],
      body: [stmt],
      range,
    };
    const inst: Instance = {
      ...this.inst,
      prefix: `${this.inst.prefix}${local}.`,
      input: { name: "in", ref: input.ref },
    };
    const { outputs } = yield* wait(new Body(this.resolver, decl.body, inst).run("block", decl));
    return outputs[0]?.node;
  }

  /** How a repeat's body reads in a message: `block VGG`, `ReLU`, `a chain`. */
  private repeated(e: Expr): string {
    const term = e.kind === "Labeled" ? e.expr : e;
    if (term.kind !== "Name" && term.kind !== "Call") return "a chain";
    const name = term.kind === "Name" ? term.name : term.callee.name;
    return this.resolver.block(name) ? `block ${name}` : name;
  }

  /** Whether a repeat's body is layers (reported when not). */
  private repeatable(r: Repeat): boolean {
    const body = r.body;
    const first = body.kind === "Chain" ? body.steps[0]! : body;
    const term = first.kind === "Labeled" ? first.expr : first;
    let detail: string | undefined;
    if (body.kind === "Number" && (r.count.kind === "Name" || r.count.kind === "Call"))
      detail = `a repeat is written with its count after what it repeats: ${this.repeated(r.count)} * ${body.value}`;
    else if (term.kind === "Name" && (this.values.has(term.name) || this.inst.env.has(term.name))) {
      const slot = this.values.get(term.name);
      if (slot) slot.used = true;
      detail = `a repeat applies layers to the value before it, so it cannot start from the value '${term.name}'`;
    } else if (term.kind === "Call" && layers.get(term.callee.name)?.inputs === "many") {
      this.noteValues(term);
      detail = `${term.callee.name} takes its values as arguments, so it cannot be repeated`;
    } else if (term.kind === "Name" && layers.get(term.name)?.inputs === "many")
      detail = `${term.name} takes its values as arguments, so it cannot be repeated`;
    else if (!["Name", "Call", "Binary", "Missing"].includes(term.kind))
      detail = `only layers, blocks and chains of them can be repeated, not ${describeExpr(body)}`;
    if (detail) this.report(diagnostic("invalid-repeat", body.range, { detail }));
    return detail === undefined && body.kind !== "Missing";
  }

  /** The count of a repeat: null when wrong (reported), undefined when not known here. */
  private repeatCount(r: Repeat): number | null | undefined {
    const v = evaluate(r.count, this.ctx);
    if (v === undefined) return this.inst.alone ? undefined : null;
    if (v.kind === "int" && v.value >= 1) return v.value;
    const detail = `a repeat count must be a positive integer, got ${describeValue(v)}`;
    this.report(diagnostic("invalid-repeat", r.count.range, { detail }));
    return null;
  }

  private isLayerName(name: string): boolean {
    return layers.has(name) || this.resolver.block(name) !== undefined;
  }

  /** Reports an undefined value name; the value it is a likely typo of counts as used. */
  private unknownValue(name: string, range: Span): void {
    const suggestion = suggest(name, this.values.keys());
    const meant = suggestion === undefined ? undefined : this.values.get(suggestion);
    if (meant) meant.used = true;
    this.report(diagnostic("unknown-name", range, { name, suggestion }));
  }

  /** Marks the values a Concat or Add names as used, when it is not evaluated. */
  private noteValues(call: Call): void {
    for (const arg of call.args) {
      const first = arg.value.kind === "Chain" ? arg.value.steps[0] : arg.value;
      const slot = first?.kind === "Name" ? this.values.get(first.name) : undefined;
      if (slot) slot.used = true;
    }
  }

  /** Concat / Add: the values named as arguments, after the piped value when mid-chain. */
  private *manyInputLayer(
    def: LayerDef,
    call: Call | Extract<Expr, { kind: "Name" }>,
    piped: Source | undefined,
    nodeName: string,
  ): Task<Ref> {
    if (call.kind === "Call" && call.recovered) {
      // Where the arguments end is a guess (see `quiet`): only note the values they name.
      this.noteValues(call);
      return undefined;
    }
    const refs: Ref[] = piped ? [piped.ref] : [];
    const names: string[] = piped ? [piped.name] : [];
    for (const arg of call.kind === "Call" ? call.args : []) {
      if (arg.name) {
        this.report(
          diagnostic("unknown-argument", arg.name.range, {
            layer: def.name,
            name: arg.name.name,
            suggestion: undefined,
          }),
        );
        refs.push(undefined);
        continue;
      }
      refs.push(yield* wait(this.chain(arg.value, undefined, false)));
      names.push(arg.value.kind === "Name" ? arg.value.name : this.describe(refs[refs.length - 1]));
    }
    if (refs.length < 2) {
      this.report(
        diagnostic("arity-mismatch", call.range, {
          layer: def.name,
          expected: "two or more values",
          got: refs.length,
        }),
      );
      return undefined;
    }
    if (refs.some((r) => r === undefined)) return undefined;
    return this.addNode({
      op: def.name,
      name: nodeName,
      inputs: refs as number[],
      inputNames: names,
      args: {},
      argRanges: {},
      valueRanges: {},
      range: call.range,
    });
  }

  /** The body's outputs; node -1 for one whose value is unknown after an error. */
  private *outputs(kind: "model" | "block", declName: Ident): Task<NamedNode[]> {
    const listed = this.body.flatMap((s) => (s.kind === "Output" ? s.names : []));
    if (kind === "block" && listed.length > 1) {
      this.report(diagnostic("block-outputs", listed[1]!.range, { block: declName.name }));
    }
    if (listed.length > 0) {
      const seen = new Set<string>();
      const out: NamedNode[] = [];
      for (const id of listed) {
        if (seen.has(id.name)) {
          this.report(diagnostic("duplicate-name", id.range, { name: id.name }));
          continue;
        }
        seen.add(id.name);
        const slot = this.values.get(id.name);
        if (!slot) {
          this.unknownValue(id.name, id.range);
          continue;
        }
        const ref = yield* wait(this.valueRef(id.name, id.range));
        out.push({ name: id.name, node: ref ?? -1, range: id.range });
      }
      return out;
    }
    const last = this.slots[this.slots.length - 1];
    if (!last) return [];
    last.used = true;
    return [{ name: last.name || "output", node: last.ref ?? -1, range: last.range }];
  }
}

/**
 * Binds a call of a layer named as its PyTorch module (`Linear`). When netc's signature does
 * not take the arguments but PyTorch's does (`Linear(400, 120)`), that is the one mistake
 * reported, with the rewrite as its fix, and the call is bound as rewritten.
 */
function bindOrTranslate(def: LayerDef, call: Call, ctx: EvalContext): BoundArgs | undefined {
  const collected: Diagnostic[] = [];
  const bound = bindArgs(def.name, def.args, call.args, call.argsRange, {
    ...ctx,
    report: (d) => collected.push(d),
  });
  const translation = bound ? undefined : translateTorchCall(call, def);
  const translated =
    translation && bindArgs(def.name, def.args, translation.args, call.argsRange, quiet(ctx));
  if (translation && translated) {
    const torch = torchSignature(def.name)!;
    const inputSize = def.args.find((s) => s.inputSize)?.inputSize;
    const signature = formatSignature(def.name, def.args, inputSize);
    ctx.report(
      diagnostic(
        "pytorch-arguments",
        call.argsRange,
        { layer: def.name, torch, signature },
        { fixes: [translation.fix] },
      ),
    );
    return translated;
  }
  for (const d of collected) ctx.report(d);
  return bound;
}

/** A different case or another framework's name for the same layer (`Relu`, `Conv2d`). */
function isConfident(name: string, suggestion: string): boolean {
  const lower = name.toLowerCase();
  return suggestion.toLowerCase() === lower || layerAliases.get(lower) === suggestion;
}

function isManyInputLayer(e: Expr): boolean {
  const term = e.kind === "Labeled" ? e.expr : e;
  return term.kind === "Call" && layers.get(term.callee.name)?.inputs === "many";
}

function describeExpr(e: Expr): string {
  switch (e.kind) {
    case "Number":
      return `the number ${e.value}`;
    case "Bool":
      return `'${e.value}'`;
    case "Tuple":
      return "a list";
    case "Name":
      return `'${e.name}'`;
    case "Call":
      return `the layer ${e.callee.name}`;
    case "Labeled":
      return `the layer '${e.label.name}'`;
    default:
      return "an expression";
  }
}
