// The editor pane: CodeMirror 6 talking to netc's language server in a Web Worker through
// @codemirror/lsp-client (completion, hover, signature help), with two small extensions of our
// own where the client has none: diagnostics that carry the server's quick fixes, and the
// per-line output shapes (inlay hints) as widgets at the end of each line.
import {
  LSPClient,
  LSPPlugin,
  hoverTooltips,
  serverCompletion,
  signatureHelp,
  type LSPClientExtension,
  type Transport,
} from "@codemirror/lsp-client";
import { setDiagnostics, lintGutter, type Action, type Diagnostic } from "@codemirror/lint";
import { defaultHighlightStyle, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import { Decoration, EditorView, WidgetType, type DecorationSet } from "@codemirror/view";
import { basicSetup } from "codemirror";
import type * as lsp from "vscode-languageserver-protocol";

const URI = "file:///playground/model.net";

/** Highlighting of .net sources: comments, numbers, keywords, layer names, labels. */
const netLanguage = StreamLanguage.define<null>({
  name: "netc",
  startState: () => null,
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match(/#.*/)) return "comment";
    if (stream.match(/\d+(\.\d+)?(e[-+]?\d+)?/i)) return "number";
    if (stream.match(/(model|block|input|output|criterion|train)\b/)) return "keyword";
    if (stream.match(/[A-Z]\w*/)) return "typeName";
    if (stream.match(/[a-z_]\w*(?=\s*[:=])/)) return "variableName.definition";
    if (stream.match(/\w+/)) return "variableName";
    if (stream.match(/->|[*=]/)) return "operator";
    stream.next();
    return null;
  },
});

/** The language server in a worker, as a transport of JSON strings. */
function workerTransport(worker: Worker): Transport {
  const handlers = new Set<(value: string) => void>();
  worker.onmessage = (event) => handlers.forEach((h) => h(JSON.stringify(event.data)));
  return {
    send: (message) => worker.postMessage(JSON.parse(message)),
    subscribe: (handler) => void handlers.add(handler),
    unsubscribe: (handler) => void handlers.delete(handler),
  };
}

const severities = ["error", "error", "warning", "info", "hint"] as const;

/** The quick fixes the server offers for a diagnostic, as lint actions that apply its edits. */
function actionsFor(
  plugin: LSPPlugin,
  diagnostic: lsp.Diagnostic,
  actions: lsp.CodeAction[],
): Action[] {
  const same = (d: lsp.Diagnostic) =>
    d.message === diagnostic.message &&
    d.range.start.line === diagnostic.range.start.line &&
    d.range.start.character === diagnostic.range.start.character;
  return actions
    .filter((a) => a.diagnostics?.some(same))
    .map((a) => ({
      name: a.title,
      apply(view) {
        const edits = a.edit?.changes?.[URI] ?? [];
        const doc = plugin.syncedDoc;
        view.dispatch({
          changes: edits.map((e) => ({
            from: plugin.unsyncedChanges.mapPos(plugin.fromPosition(e.range.start, doc)),
            to: plugin.unsyncedChanges.mapPos(plugin.fromPosition(e.range.end, doc)),
            insert: e.newText,
          })),
        });
      },
    }));
}

/** A shape at the end of a line. */
class ShapeWidget extends WidgetType {
  constructor(readonly label: string) {
    super();
  }
  override eq(other: ShapeWidget) {
    return other.label === this.label;
  }
  toDOM() {
    const span = document.createElement("span");
    span.className = "cm-shape-hint";
    span.textContent = this.label;
    return span;
  }
}

const setHints = StateEffect.define<DecorationSet>();
const hintField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    for (const e of tr.effects) if (e.is(setHints)) return e.value;
    return value.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

/**
 * When the server publishes a version's diagnostics it has analysed that version: ask it for
 * the quick fixes and the inlay hints of the same version, then show all three together.
 */
async function showAnalysis(
  client: LSPClient,
  params: lsp.PublishDiagnosticsParams,
): Promise<void> {
  const file = client.workspace.getFile(params.uri);
  const view = file?.getView();
  const plugin = view && LSPPlugin.get(view);
  if (!file || !view || !plugin || (params.version != null && params.version !== file.version))
    return;
  const doc = plugin.syncedDoc;
  const whole = { start: { line: 0, character: 0 }, end: plugin.toPosition(doc.length, doc) };
  const textDocument = { uri: params.uri };
  const [actions, hints] = await Promise.all([
    params.diagnostics.length === 0
      ? []
      : client.request<lsp.CodeActionParams, lsp.CodeAction[] | null>("textDocument/codeAction", {
          textDocument,
          range: whole,
          context: { diagnostics: params.diagnostics },
        }),
    client.request<lsp.InlayHintParams, lsp.InlayHint[] | null>("textDocument/inlayHint", {
      textDocument,
      range: whole,
    }),
  ]);
  // The document may have moved on meanwhile: positions are mapped through what changed since.
  if (plugin.syncedDoc !== doc) return;
  const at = (p: lsp.Position) => plugin.unsyncedChanges.mapPos(plugin.fromPosition(p, doc));
  const diagnostics: Diagnostic[] = params.diagnostics.map((d) => ({
    from: at(d.range.start),
    to: at(d.range.end),
    severity: severities[d.severity ?? 1],
    message: typeof d.message === "string" ? d.message : d.message.value,
    source: d.code === undefined ? "netc" : String(d.code),
    actions: actionsFor(plugin, d, actions ?? []),
  }));
  const widgets = (hints ?? []).map((h) =>
    Decoration.widget({ widget: new ShapeWidget(String(h.label)), side: 1 }).range(at(h.position)),
  );
  view.dispatch(setDiagnostics(view.state, diagnostics), {
    effects: setHints.of(Decoration.set(widgets, true)),
  });
}

/** The LSP client extension that takes the server's diagnostics (replacing the client's own). */
function netcDiagnostics(): LSPClientExtension {
  return {
    clientCapabilities: { textDocument: { publishDiagnostics: { versionSupport: true } } },
    notificationHandlers: {
      "textDocument/publishDiagnostics": (
        client: LSPClient,
        params: lsp.PublishDiagnosticsParams,
      ) => {
        showAnalysis(client, params).catch((e) => console.warn("netc playground:", e));
        return true;
      },
    },
  };
}

/** Pushes edits to the server shortly after typing stops, as the client's own diagnostics do. */
const autoSync = EditorView.updateListener.of((update) => {
  if (!update.docChanged) return;
  const plugin = LSPPlugin.get(update.view);
  clearTimeout(syncTimer);
  syncTimer = setTimeout(() => plugin?.client.sync(), 120);
});
let syncTimer: ReturnType<typeof setTimeout> | undefined;

export interface Editor {
  view: EditorView;
  /** Replaces the whole text (a sample picked). */
  setText(text: string): void;
  /** Selects source range [from, to) and scrolls to it. */
  select(from: number, to: number): void;
}

export function createEditor(
  parent: HTMLElement,
  text: string,
  onChange: (text: string) => void,
): Editor {
  const worker = new Worker(new URL("lsp-worker.js", import.meta.url), { type: "module" });
  const client = new LSPClient({
    // The worker starts while the page loads: on a busy machine the first answer takes seconds.
    timeout: 20_000,
    extensions: [serverCompletion(), hoverTooltips(), signatureHelp(), netcDiagnostics()],
  }).connect(workerTransport(worker));
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        basicSetup,
        netLanguage,
        syntaxHighlighting(defaultHighlightStyle),
        lintGutter(),
        hintField,
        client.plugin(URI, "netc"),
        autoSync,
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    setText(next) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: next } });
    },
    select(from, to) {
      view.dispatch({
        selection: { anchor: from, head: to },
        effects: EditorView.scrollIntoView(from, { y: "center" }),
      });
      view.focus();
    },
  };
}
