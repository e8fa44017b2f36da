/** What the cap decided for one line. */
export interface CapDecision {
  /** The text to store (possibly a cut-down prefix), or undefined to store nothing. */
  keep: string | undefined;
  /** True exactly once per step: the line that crossed the cap; store the marker after it. */
  marker: boolean;
}

interface Counter {
  kept: number;
  dropped: number;
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return "";
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString("utf8");
}

/**
 * Counts the output bytes of each step of each run against a per-step cap (security.md §1
 * row 4: an unbounded log must not exhaust the host). Lines past the cap are dropped and
 * counted; the caller stores one marker line where the cut happened.
 */
export class LogCap {
  readonly #maxBytes: number;
  readonly #runs = new Map<string, Map<string, Counter>>();

  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw new RangeError(`log cap must be a positive number of bytes, got ${maxBytes}`);
    this.#maxBytes = maxBytes;
  }

  /** The cap in bytes. */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Accounts one line (plus its newline) of a step and says what to store. */
  admit(runId: string, jobKey: string, stepIndex: number, text: string): CapDecision {
    const c = this.#counter(runId, jobKey, stepIndex);
    const size = Buffer.byteLength(text, "utf8") + 1;
    if (c.dropped > 0) {
      c.dropped += size;
      return { keep: undefined, marker: false };
    }
    if (c.kept + size <= this.#maxBytes) {
      c.kept += size;
      return { keep: text, marker: false };
    }
    const room = this.#maxBytes - c.kept - 1;
    const prefix = room > 0 ? truncateUtf8(text, room) : "";
    const keptBytes = prefix === "" ? 0 : Buffer.byteLength(prefix, "utf8") + 1;
    c.kept += keptBytes;
    c.dropped += size - keptBytes;
    return { keep: prefix === "" ? undefined : prefix, marker: true };
  }

  /** Bytes stored and dropped so far for one step. */
  usage(runId: string, jobKey: string, stepIndex: number): { kept: number; dropped: number } {
    const c = this.#runs.get(runId)?.get(`${jobKey}\0${stepIndex}`);
    return { kept: c?.kept ?? 0, dropped: c?.dropped ?? 0 };
  }

  /** Returns a step's usage and forgets its counter, once the step has completed. */
  release(runId: string, jobKey: string, stepIndex: number): { kept: number; dropped: number } {
    const usage = this.usage(runId, jobKey, stepIndex);
    this.#runs.get(runId)?.delete(`${jobKey}\0${stepIndex}`);
    return usage;
  }

  /** Forgets a job's counters (all its steps), once no more output can arrive for it. */
  forgetJob(runId: string, jobKey: string): void {
    const steps = this.#runs.get(runId);
    if (!steps) return;
    for (const key of steps.keys()) if (key.startsWith(`${jobKey}\0`)) steps.delete(key);
  }

  /** Forgets a whole run's counters. */
  forgetRun(runId: string): void {
    this.#runs.delete(runId);
  }

  #counter(runId: string, jobKey: string, stepIndex: number): Counter {
    let steps = this.#runs.get(runId);
    if (!steps) this.#runs.set(runId, (steps = new Map()));
    const key = `${jobKey}\0${stepIndex}`;
    let c = steps.get(key);
    if (!c) steps.set(key, (c = { kept: 0, dropped: 0 }));
    return c;
  }
}
