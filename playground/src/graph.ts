// The graph pane: the model's IR (the compiler runs in the page) laid out by dagre, one node per
// layer with its output shape and parameter count; each use of a block is a box that collapses
// to one node; clicking a node selects its source in the editor.
import dagre from "@dagrejs/dagre";
import { formatShape } from "@netc/compiler/diagnostics.js";
import type { IRNode, ModelIR } from "@netc/compiler/ir.js";

const SVG = "http://www.w3.org/2000/svg";
const NODE_HEIGHT = 40;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Parameters as PyTorch counts them: trained or frozen, not buffers (running statistics). */
const parameterCount = (n: IRNode) =>
  n.params.filter((p) => p.trainable || p.frozen).reduce((a, p) => a + size(p.shape), 0);

const count = (n: number) => n.toLocaleString("en-US");

/** A use of a block: its nodes are drawn inside one box, or as one node when collapsed. */
const groupOf = (n: IRNode) => (n.site ? `${n.site.block}@${n.site.range.pos}` : undefined);

interface Shown {
  id: string;
  title: string;
  detail: string;
  /** The source selected on a click. */
  range: { pos: number; end: number };
  kind: "layer" | "input" | "block";
  group?: string;
}

export class GraphPane {
  private readonly collapsed = new Set<string>();
  private model: ModelIR | undefined;

  constructor(
    private readonly parent: HTMLElement,
    private readonly onSelect: (from: number, to: number) => void,
  ) {}

  show(model: ModelIR | undefined): void {
    this.model = model;
    this.render();
  }

  private render(): void {
    this.parent.replaceChildren();
    const model = this.model;
    if (!model || model.nodes.length === 0) {
      this.parent.textContent = "No model to draw: see the editor's diagnostics.";
      return;
    }
    const shown = new Map<number, Shown>();
    const groups = new Map<string, { block: string; nodes: IRNode[] }>();
    for (const n of model.nodes) {
      const group = groupOf(n);
      if (group) {
        const entry = groups.get(group) ?? { block: n.site!.block, nodes: [] };
        entry.nodes.push(n);
        groups.set(group, entry);
      }
      if (group && this.collapsed.has(group)) continue;
      shown.set(n.id, {
        id: `n${n.id}`,
        title: n.op === "Input" ? `input ${n.name}` : `${n.name}: ${n.op}`,
        detail: `${formatShape(n.shape)}${parameterCount(n) ? ` · ${count(parameterCount(n))} params` : ""}`,
        range: n.range,
        kind: n.op === "Input" ? "input" : "layer",
        ...(group ? { group } : {}),
      });
    }
    // A collapsed block is one node standing for all of its nodes.
    const standIn = new Map<number, Shown>();
    for (const [group, { block, nodes }] of groups) {
      if (!this.collapsed.has(group)) continue;
      const last = nodes[nodes.length - 1]!;
      const params = nodes.reduce((a, n) => a + parameterCount(n), 0);
      const node: Shown = {
        id: `g${group}`,
        title: `${block} (${nodes.length} layers)`,
        detail: `${formatShape(last.shape)}${params ? ` · ${count(params)} params` : ""}`,
        range: last.site!.range,
        kind: "block",
      };
      for (const n of nodes) standIn.set(n.id, node);
    }
    const drawn = (id: number) => shown.get(id) ?? standIn.get(id);

    const g = new dagre.graphlib.Graph({ compound: true });
    g.setGraph({ rankdir: "TB", nodesep: 18, ranksep: 22, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    const all = new Map<string, Shown>();
    for (const s of [...shown.values(), ...standIn.values()]) all.set(s.id, s);
    for (const s of all.values()) {
      const width = 14 + 7 * Math.max(s.title.length, s.detail.length);
      g.setNode(s.id, { width, height: NODE_HEIGHT });
      if (s.group) {
        if (!g.hasNode(`c${s.group}`)) g.setNode(`c${s.group}`, {});
        g.setParent(s.id, `c${s.group}`);
      }
    }
    for (const n of model.nodes) {
      const to = drawn(n.id);
      for (const input of n.inputs) {
        const from = drawn(input);
        if (from && to && from.id !== to.id) g.setEdge(from.id, to.id);
      }
    }
    dagre.layout(g);

    const { width = 0, height = 0 } = g.graph();
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    svg.setAttribute("class", "graph");
    const element = (
      name: string,
      attributes: Record<string, string | number>,
      into: SVGElement = svg,
    ) => {
      const e = document.createElementNS(SVG, name);
      for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
      into.append(e);
      return e;
    };
    for (const [group, { block }] of groups) {
      if (this.collapsed.has(group)) continue;
      const c = g.node(`c${group}`);
      const box = element("g", { class: "cluster" });
      element(
        "rect",
        { x: c.x - c.width / 2, y: c.y - c.height / 2, width: c.width, height: c.height, rx: 6 },
        box,
      );
      const label = element("text", { x: c.x - c.width / 2 + 6, y: c.y - c.height / 2 + 12 }, box);
      label.textContent = `${block} ▾`;
      box.addEventListener("click", () => this.toggle(group));
    }
    for (const e of g.edges()) {
      const points = g.edge(e).points ?? [];
      element("polyline", {
        class: "edge",
        points: points.map((p) => `${p.x},${p.y}`).join(" "),
      });
    }
    for (const s of all.values()) {
      const n = g.node(s.id);
      const node = element("g", { class: `node ${s.kind}`, "data-id": s.id });
      element(
        "rect",
        { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height, rx: 4 },
        node,
      );
      const title = element("text", { x: n.x, y: n.y - 4, "text-anchor": "middle" }, node);
      title.textContent = s.kind === "block" ? `${s.title} ▸` : s.title;
      const detail = element(
        "text",
        { x: n.x, y: n.y + 12, "text-anchor": "middle", class: "detail" },
        node,
      );
      detail.textContent = s.detail;
      node.addEventListener("click", () => {
        if (s.kind === "block") this.toggle(s.id.slice(1));
        else this.onSelect(s.range.pos, s.range.end);
      });
    }
    this.parent.append(svg);
  }

  private toggle(group: string): void {
    if (!this.collapsed.delete(group)) this.collapsed.add(group);
    this.render();
  }
}
