import { buildMaskAutomaton, type MaskAutomaton } from "./mask-automaton.ts";
import { deriveSecretForms } from "./mask-encodings.ts";

/** What replaces every masked run of text, as on GitHub. */
export const MASK = "***";

/** A masking stream for output that arrives in pieces. */
export interface MaskStream {
  /**
   * Masks `chunk` and returns what can be released now: everything except the shortest tail
   * that could still be the start of a secret, which is held back for the next write.
   */
  write(chunk: string): string;
  /** Releases (masked) whatever is held back and resets the stream. */
  flush(): string;
}

/** Replaces registered secrets and their encoded forms in text with {@link MASK}. */
export interface SecretMasker {
  /**
   * Registers a secret and its derived forms (each line, base64 at three byte offsets and
   * base64 of base64, hex, URI, JSON, XML and shell escapes). Empty and whitespace-only values
   * are ignored, as GitHub ignores them.
   */
  add(value: string): void;
  /** Masks every occurrence of every registered form; overlapping or touching ones become one `***`. */
  mask(text: string): string;
  /** A stream that masks secrets even when they are split across writes. */
  createStream(): MaskStream;
  /** How many distinct strings are masked (the secrets plus their derived forms). */
  readonly size: number;
}

/**
 * Creates an empty masker. Like GitHub's runner there is no length floor: a one-character
 * secret masks every occurrence of that character, which garbles logs but never leaks it.
 * Masking is best effort: a secret transformed in a way not listed here, or with ANSI codes
 * inside it, is not recognised.
 *
 * @example
 * const masker = createSecretMasker();
 * masker.add("hunter2");
 * masker.mask("password=hunter2"); // "password=***"
 */
export function createSecretMasker(): SecretMasker {
  const patterns = new Set<string>();
  let automaton: MaskAutomaton | undefined;
  let built = 0;
  let version = 0;

  const current = (): MaskAutomaton | undefined => {
    if (built !== version) {
      automaton = patterns.size === 0 ? undefined : buildMaskAutomaton([...patterns]);
      built = version;
    }
    return automaton;
  };

  return {
    add(value: string): void {
      const before = patterns.size;
      for (const form of deriveSecretForms(value)) patterns.add(form);
      if (patterns.size !== before) version++;
    },
    mask(text: string): string {
      const a = current();
      if (a === undefined || text.length === 0) return text;
      const runs: number[] = [];
      scan(a, text, 0, 0, runs);
      return runs.length === 0 ? text : render(text, text.length, runs, false);
    },
    createStream(): MaskStream {
      return createMaskStream(current, () => version);
    },
    get size(): number {
      return patterns.size;
    },
  };
}

function createMaskStream(
  current: () => MaskAutomaton | undefined,
  versionOf: () => number,
): MaskStream {
  let held = "";
  let heldRuns: number[] = [];
  let state = 0;
  let scannedWith = -1;
  // The last released text ended in, or right at the end of, a masked run: a run continuing
  // at the start of the held text must not print a second `***`.
  let maskOpen = false;

  return {
    write(chunk: string): string {
      const a = current();
      if (a === undefined) {
        const out = render(held, held.length, heldRuns, maskOpen) + chunk;
        held = "";
        heldRuns = [];
        maskOpen = false;
        return out;
      }
      const buf = held + chunk;
      let runs: number[];
      if (scannedWith === versionOf()) {
        runs = heldRuns;
        state = scan(a, buf, held.length, state, runs);
      } else {
        // New secrets since the last write: rescan the held tail too, since it may hold one.
        runs = [];
        state = scan(a, buf, 0, 0, runs);
        runs = unionRuns(runs, heldRuns);
        scannedWith = versionOf();
      }
      const cut = buf.length - a.depth[state / a.classCount]!;
      const out = render(buf, cut, runs, maskOpen);
      // Releasing nothing leaves the boundary where it was, and with it `maskOpen`.
      if (cut > 0) maskOpen = false;
      heldRuns = [];
      for (let k = 0; k < runs.length; k += 2) {
        const start = runs[k]!;
        const end = runs[k + 1]!;
        if (end > cut) {
          heldRuns.push(Math.max(start, cut) - cut, end - cut);
          if (start < cut) maskOpen = true;
        } else if (end === cut) {
          maskOpen = true;
        }
      }
      held = buf.slice(cut);
      return out;
    },
    flush(): string {
      const out = render(held, held.length, heldRuns, maskOpen);
      held = "";
      heldRuns = [];
      state = 0;
      maskOpen = false;
      return out;
    },
  };
}

/**
 * Runs the automaton over `text` from index `from`, starting in the state at `offset`, and
 * appends masked runs as flat `[start, end)` pairs, merging overlapping and touching ones.
 * Returns the final state offset.
 */
function scan(
  a: MaskAutomaton,
  text: string,
  from: number,
  offset: number,
  runs: number[],
): number {
  const { classOf, next, matchLength, classCount } = a;
  let s = offset;
  for (let i = from, n = text.length; i < n; i++) {
    let t = next[s + classOf[text.charCodeAt(i)]!]!;
    if (t < 0) {
      t = ~t;
      const end = i + 1;
      let start = end - matchLength[t / classCount]!;
      let k = runs.length;
      while (k > 0 && runs[k - 1]! >= start) {
        if (runs[k - 2]! < start) start = runs[k - 2]!;
        k -= 2;
      }
      runs.length = k;
      runs.push(start, end);
    }
    s = t;
  }
  return s;
}

/** Sorted union of two run lists, merging overlapping and touching runs. */
function unionRuns(a: number[], b: number[]): number[] {
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k < a.length; k += 2) pairs.push([a[k]!, a[k + 1]!]);
  for (let k = 0; k < b.length; k += 2) pairs.push([b[k]!, b[k + 1]!]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [s, e] of pairs) {
    const n = out.length;
    if (n > 0 && out[n - 1]! >= s) out[n - 1] = Math.max(out[n - 1]!, e);
    else out.push(s, e);
  }
  return out;
}

/** `text[0, end)` with each run clipped to it replaced by {@link MASK}. */
function render(text: string, end: number, runs: number[], continuesMask: boolean): string {
  let out = "";
  let pos = 0;
  for (let k = 0; k < runs.length; k += 2) {
    const start = runs[k]!;
    if (start >= end) break;
    out += text.slice(pos, start);
    if (!(continuesMask && start === 0)) out += MASK;
    pos = Math.min(runs[k + 1]!, end);
  }
  return out + text.slice(pos, end);
}
