/**
 * A dense Aho-Corasick automaton over UTF-16 code units, specialised for masking: each state
 * knows the length of the longest pattern that ends there (through its suffix links), which is
 * all that masking with maximal coverage needs. Chosen by measurement (`bench/masking.ts`):
 * with ~850 patterns a single RegExp alternation ran at ~10 MB/s, a trie-shaped RegExp at
 * ~12 MB/s, one `indexOf` per pattern at a few MB/s, while this table-driven loop runs at
 * several hundred MB/s because its inner loop is two typed-array loads per character.
 */
export interface MaskAutomaton {
  /** Code unit → character class; 0 for code units that occur in no pattern. */
  readonly classOf: Uint16Array;
  readonly classCount: number;
  /**
   * Transitions indexed by `stateOffset + class`, where `stateOffset = state * classCount`.
   * Entries hold the target's offset, bit-inverted (`~offset`, negative) when a pattern ends
   * in the target, so the hot loop tests for a match with one sign check.
   */
  readonly next: Int32Array;
  /** By state: length of the longest pattern ending in it (0: none). */
  readonly matchLength: Int32Array;
  /** By state: how many characters of input the state stands for (its trie depth). */
  readonly depth: Int32Array;
  readonly longestPattern: number;
}

/** Builds the automaton for a non-empty list of non-empty patterns. */
export function buildMaskAutomaton(patterns: readonly string[]): MaskAutomaton {
  const classOf = new Uint16Array(65536);
  let classCount = 1;
  let longestPattern = 0;
  for (const p of patterns) {
    longestPattern = Math.max(longestPattern, p.length);
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      if (classOf[c] === 0) classOf[c] = classCount++;
    }
  }

  // Trie first, as sparse child maps; the dense table is filled breadth-first afterwards.
  const children: Array<Map<number, number>> = [new Map()];
  const depthList: number[] = [0];
  const endLen: number[] = [0];
  for (const p of patterns) {
    let s = 0;
    for (let i = 0; i < p.length; i++) {
      const cls = classOf[p.charCodeAt(i)]!;
      const node = children[s]!;
      let n = node.get(cls);
      if (n === undefined) {
        n = children.length;
        children.push(new Map());
        depthList.push(depthList[s]! + 1);
        endLen.push(0);
        node.set(cls, n);
      }
      s = n;
    }
    endLen[s] = Math.max(endLen[s]!, p.length);
  }

  const stateCount = children.length;
  const next = new Int32Array(stateCount * classCount);
  const matchLength = Int32Array.from(endLen);
  const depth = Int32Array.from(depthList);
  const fail = new Int32Array(stateCount);
  const queue = new Int32Array(stateCount);
  let head = 0;
  let tail = 0;
  for (const [cls, n] of children[0]!) {
    next[cls] = n; // offsets are fixed up in the final pass
    queue[tail++] = n;
  }
  while (head < tail) {
    const s = queue[head++]!;
    const f = fail[s]!;
    // A suffix's longest match is also a match here; queue order guarantees f is final.
    if (matchLength[f]! > matchLength[s]!) matchLength[s] = matchLength[f]!;
    const row = s * classCount;
    const failRow = f * classCount;
    const kids = children[s]!;
    for (let cls = 0; cls < classCount; cls++) {
      const child = kids.get(cls);
      if (child === undefined) {
        next[row + cls] = next[failRow + cls]!;
      } else {
        fail[child] = next[failRow + cls]!;
        next[row + cls] = child;
        queue[tail++] = child;
      }
    }
  }
  // Root row for classes without a child already holds 0 (the root).
  for (let i = 0; i < next.length; i++) {
    const target = next[i]!;
    const offset = target * classCount;
    next[i] = matchLength[target]! > 0 ? ~offset : offset;
  }
  return { classOf, classCount, next, matchLength, depth, longestPattern };
}
