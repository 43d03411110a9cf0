// Per-document check results keyed by version, and debounced publishing that never goes stale.
import type { TextDocument } from "vscode-languageserver-textdocument";
import { check, type CheckResult } from "../../compiler/check.js";
import { LineMap } from "../../grammar/positions.js";
import type { Analysis } from "./analysis.js";

/** How the server reports its own failures: to the client's log, and it goes on serving. */
export type FailureLog = (what: string, error: unknown) => void;

export class DocumentState {
  private readonly cache = new Map<string, Analysis>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly published = new Map<string, number>();

  constructor(
    /** The newest text of a document, as the editor last sent it. */
    private readonly current: (uri: string) => TextDocument | undefined,
    private readonly publish: (analysis: Analysis) => void,
    private readonly debounceMs: number,
    private readonly failed: FailureLog,
  ) {}

  /**
   * The check of the document's newest version: computed once per version. Should the checker
   * throw (a bug), the version has no findings rather than every request failing on it.
   */
  analysis(doc: TextDocument): Analysis {
    const cached = this.cache.get(doc.uri);
    if (cached && cached.version === doc.version) return cached;
    const text = doc.getText();
    let result: CheckResult;
    try {
      result = check(text);
    } catch (error) {
      this.failed(`checking ${doc.uri} (version ${doc.version})`, error);
      const range = { pos: 0, end: text.length };
      result = {
        ast: { kind: "File", decls: [], comments: [], range },
        diagnostics: [],
        models: [],
      };
    }
    const analysis = { uri: doc.uri, version: doc.version, text, lines: new LineMap(text), result };
    this.cache.set(doc.uri, analysis);
    return analysis;
  }

  /** A new version arrived: publish its diagnostics once the edits pause. */
  changed(uri: string): void {
    clearTimeout(this.timers.get(uri));
    if (this.debounceMs <= 0) {
      this.flush(uri);
      return;
    }
    this.timers.set(
      uri,
      setTimeout(() => this.flush(uri), this.debounceMs),
    );
  }

  /**
   * Publishes the newest version now (on open: nothing to wait for). Also run from a timer,
   * where an exception would end the process: it is logged instead.
   */
  flush(uri: string): void {
    try {
      clearTimeout(this.timers.get(uri));
      this.timers.delete(uri);
      const doc = this.current(uri);
      if (!doc || this.published.get(uri) === doc.version) return;
      const analysis = this.analysis(doc);
      // Checking takes time; should a newer version have arrived meanwhile, its own flush
      // publishes it, and this older result must not overwrite it.
      if (this.current(uri)?.version !== analysis.version) return;
      this.published.set(uri, analysis.version);
      this.publish(analysis);
    } catch (error) {
      this.failed(`publishing the diagnostics of ${uri}`, error);
    }
  }

  closed(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.cache.delete(uri);
    this.published.delete(uri);
  }
}
