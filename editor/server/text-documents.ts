// The open documents as the editor edits them: the protocol's text documents, with each change
// brought inside the document before it is applied.
import type { TextDocumentsConfiguration } from "vscode-languageserver";
import {
  TextDocument,
  type Range,
  type TextDocumentContentChangeEvent,
} from "vscode-languageserver-textdocument";

/** `range` with both ends moved inside `doc` (a line past the end is the end of the text). */
function clamp(doc: TextDocument, range: Range): Range {
  const inside = (p: Range["start"]) => doc.positionAt(doc.offsetAt(p));
  return { start: inside(range.start), end: inside(range.end) };
}

/**
 * Creates and updates documents as vscode-languageserver-textdocument does, but clamps each
 * change's range first, one change at a time (each is relative to the text the previous ones
 * left). The library keeps the text right for a range past the end, yet updates its line
 * index at the lines the range names: an insertion at lines 60–59 of a 24-line text left it
 * counting 61 lines, and every position and edit after that landed elsewhere.
 */
export const textDocuments: TextDocumentsConfiguration<TextDocument> = {
  create: (uri, languageId, version, content) =>
    TextDocument.create(uri, languageId, version, content),
  update(doc, changes: TextDocumentContentChangeEvent[], version) {
    let updated = doc;
    for (const change of changes) {
      const inside =
        "range" in change ? { ...change, range: clamp(updated, change.range) } : change;
      updated = TextDocument.update(updated, [inside], version);
    }
    return updated;
  },
};
