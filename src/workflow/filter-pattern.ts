/**
 * GitHub's filter-pattern syntax for `branches`, `tags` and `paths`: `*` matches any run of
 * characters except `/`, `**` any run including `/`, `?` makes the preceding character
 * optional, `+` repeats it, `[a-z0-9]` matches one listed character, `\` escapes, and a leading
 * `!` negates. In a list, later patterns override earlier ones.
 */
export const filterPattern = {
  /** Compiles one pattern (without a leading `!`) to an anchored regular expression. */
  compile(pattern: string): RegExp {
    let out = "";
    // Whether the last emitted atom is a single character (so `?` and `+` may quantify it).
    let quantifiable = false;
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === "\\" && i + 1 < pattern.length) {
        out += escape(pattern[++i]!);
        quantifiable = true;
      } else if (c === "*") {
        if (pattern[i + 1] === "*") {
          out += ".*";
          i++;
        } else {
          out += "[^/]*";
        }
        quantifiable = false;
      } else if ((c === "?" || c === "+") && quantifiable) {
        out += c;
        quantifiable = false;
      } else if (c === "[") {
        const close = pattern.indexOf("]", i + 1);
        const body = close > i + 1 ? pattern.slice(i + 1, close) : "";
        if (body && /^([A-Za-z0-9](-[A-Za-z0-9])?)+$/.test(body)) {
          out += `[${body}]`;
          i = close;
        } else {
          out += "\\[";
        }
        quantifiable = true;
      } else {
        out += escape(c);
        quantifiable = true;
      }
    }
    return new RegExp(`^${out}$`);
  },

  /**
   * True when `value` is selected by the ordered pattern list: a pattern includes it, and no
   * later `!pattern` excludes it (a still later pattern may include it again).
   */
  matchesAny(patterns: readonly string[], value: string): boolean {
    let matched = false;
    for (const p of patterns) {
      if (p.startsWith("!")) {
        if (matched && filterPattern.compile(p.slice(1)).test(value)) matched = false;
      } else if (!matched && filterPattern.compile(p).test(value)) {
        matched = true;
      }
    }
    return matched;
  },
};

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}
