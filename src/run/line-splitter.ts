import { StringDecoder } from "node:string_decoder";

/** Default cap on one line, in UTF-16 code units (about 1 MiB of ASCII). */
export const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;

/** Turns a stream of byte or string chunks into complete lines. */
export interface LineSplitter {
  /** Feeds a chunk; returns the lines it completed, without their line endings. */
  push(chunk: Uint8Array | string): string[];
  /** Returns the final partial line (if any) and resets the splitter. */
  flush(): string[];
}

/** Options for {@link createLineSplitter}. */
export interface LineSplitterOptions {
  /** Longest line kept whole; longer ones are cut into pieces of this length. */
  maxLineLength?: number;
  /** Appended to each piece of a cut line so a reader knows the line goes on. */
  continuationMarker?: string;
}

/**
 * Creates a line splitter. Like GitHub's runner (.NET `ReadLine`), LF, CRLF and a lone CR
 * each end a line, so progress bars redrawn with `\r` become separate lines. Bytes are decoded
 * as UTF-8 with a `StringDecoder`, so a character split across chunks stays whole. A line
 * longer than `maxLineLength` is released in pieces, each but the last followed by the
 * marker, so a 100 MB line without a newline never sits in memory. A secret that straddles
 * such a cut is not masked; the cap is far above any real secret's length.
 *
 * @example
 * const split = createLineSplitter();
 * split.push("a\r\nb"); // ["a"]
 * split.flush(); // ["b"]
 */
export function createLineSplitter(options: LineSplitterOptions = {}): LineSplitter {
  const max = Math.max(1, options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
  const marker = options.continuationMarker ?? ` [actvm: line cut at ${max} characters, continued]`;
  const decoder = new StringDecoder("utf8");
  let partial = "";
  // The previous chunk ended in CR: an LF at the start of the next one belongs to it.
  let pendingCr = false;

  const take = (text: string, lines: string[]): void => {
    let pos = 0;
    if (pendingCr && text.length > 0) {
      pendingCr = false;
      if (text.charCodeAt(0) === 10) pos = 1;
    }
    const n = text.length;
    // Remember the next LF and CR so a chunk of many lines is searched once, not per line.
    let lf = -2;
    let cr = -2;
    while (pos < n) {
      if (lf !== -1 && lf < pos) lf = text.indexOf("\n", pos);
      if (cr !== -1 && cr < pos) cr = text.indexOf("\r", pos);
      let eol = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (eol < 0) eol = n;
      let segment = text.slice(pos, eol);
      if (partial.length + segment.length > max) {
        segment = partial + segment;
        partial = "";
        while (segment.length > max) {
          let cut = max;
          // Never split a surrogate pair.
          const c = segment.charCodeAt(cut - 1);
          if (c >= 0xd800 && c <= 0xdbff && cut > 1) cut--;
          lines.push(segment.slice(0, cut) + marker);
          segment = segment.slice(cut);
        }
      } else if (partial.length > 0) {
        segment = partial + segment;
        partial = "";
      }
      if (eol === n) {
        partial = segment;
        return;
      }
      lines.push(segment);
      if (text.charCodeAt(eol) === 13) {
        if (eol + 1 === n) pendingCr = true;
        else if (text.charCodeAt(eol + 1) === 10) eol++;
      }
      pos = eol + 1;
    }
  };

  return {
    push(chunk: Uint8Array | string): string[] {
      const lines: string[] = [];
      take(
        typeof chunk === "string"
          ? chunk
          : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
        lines,
      );
      return lines;
    },
    flush(): string[] {
      const lines: string[] = [];
      take(decoder.end(), lines);
      if (partial.length > 0) lines.push(partial);
      partial = "";
      pendingCr = false;
      return lines;
    },
  };
}
