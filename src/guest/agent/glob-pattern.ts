/** One compiled hashFiles()/@actions/glob-style pattern. */
export interface GlobPattern {
  /** `!` patterns remove what earlier patterns added. */
  negate: boolean;
  /** Trailing `/`: matches directories only (and, implicitly, what is under them). */
  directoryOnly: boolean;
  /** Path segments; each is `**` or a regular expression for one segment. */
  segments: (RegExp | "**")[];
  /** Leading segments without wildcards, to skip directories no pattern can reach. */
  literalPrefix: string[];
}

function segmentRegExp(segment: string): RegExp | string {
  let re = "";
  let literal = true;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === "\\" && i + 1 < segment.length) {
      re += escape(segment[++i] as string);
    } else if (c === "*") {
      re += "[^/]*";
      literal = false;
    } else if (c === "?") {
      re += "[^/]";
      literal = false;
    } else if (c === "[") {
      const close = segment.indexOf("]", i + 2);
      if (close === -1) {
        re += "\\[";
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negated = body.startsWith("!") || body.startsWith("^");
      if (negated) body = body.slice(1);
      re += `[${negated ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      literal = false;
      i = close;
    } else {
      re += escape(c);
    }
  }
  return literal ? unescapeLiteral(segment) : new RegExp(`^${re}$`, "s");
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function unescapeLiteral(segment: string): string {
  return segment.replace(/\\(.)/g, "$1");
}

/**
 * Compiles one pattern relative to the hashing root. Follows @actions/glob, which GitHub's
 * hashFiles() uses: `*`, `?` and `[...]` within one path segment, `**` across any number of
 * directories, hidden files match, leading `!` negates, `#` starts a comment, and a pattern that
 * matches a directory matches every file below it. Absolute patterns are taken relative to
 * `root`. Returns undefined for comments and blanks.
 */
export function compileGlobPattern(raw: string, root: string): GlobPattern | undefined {
  let text = raw.trim();
  if (text === "" || text.startsWith("#")) return undefined;
  let negate = false;
  while (text.startsWith("!")) {
    negate = !negate;
    text = text.slice(1).trimStart();
  }
  if (text.startsWith("/")) {
    // Absolute patterns count only inside the root, as GitHub ignores files outside the workspace.
    const base = root.endsWith("/") ? root : `${root}/`;
    if (text === root || text === base) text = ".";
    else if (text.startsWith(base)) text = text.slice(base.length);
    else return { negate, directoryOnly: false, segments: [/^(?!)$/], literalPrefix: [] };
  }
  const directoryOnly = text.endsWith("/");
  const parts = text.split("/").filter((p) => p !== "" && p !== ".");
  const segments: (RegExp | "**")[] = [];
  const literalPrefix: string[] = [];
  let inPrefix = true;
  for (const part of parts) {
    if (part === "..") {
      // Stepping out of the root can never match a file under it (GitHub ignores those too).
      return { negate, directoryOnly, segments: [/^(?!)$/], literalPrefix: [] };
    }
    if (part === "**") {
      if (segments[segments.length - 1] !== "**") segments.push("**");
      inPrefix = false;
      continue;
    }
    const compiled = segmentRegExp(part);
    if (typeof compiled === "string") {
      if (inPrefix) literalPrefix.push(compiled);
      segments.push(new RegExp(`^${compiled.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "s"));
    } else {
      inPrefix = false;
      segments.push(compiled);
    }
  }
  return { negate, directoryOnly, segments, literalPrefix };
}

/** True when the path (segments relative to the root) is matched by the pattern itself. */
export function matchesExactly(pattern: GlobPattern, path: string[]): boolean {
  const memo = new Map<number, boolean>();
  const go = (si: number, pi: number): boolean => {
    const key = si * (path.length + 1) + pi;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let result: boolean;
    if (si === pattern.segments.length) {
      result = pi === path.length;
    } else {
      const seg = pattern.segments[si] as RegExp | "**";
      if (seg === "**") {
        result = go(si + 1, pi) || (pi < path.length && go(si, pi + 1));
      } else {
        result = pi < path.length && seg.test(path[pi] as string) && go(si + 1, pi + 1);
      }
    }
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}
