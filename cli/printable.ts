// Keeps text from a source file or the command line from driving the terminal when printed.

/** Control characters (an ESC would start an escape sequence) become U+FFFD; tabs survive. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, "\ufffd");
}
