/** Where a JSON text first goes wrong. */
export interface JsonSyntaxError {
  /** 0-based offset into the text. */
  offset: number;
  message: string;
}

/**
 * Scans `text` as strict JSON (RFC 8259) and reports the first error with its offset, which
 * Node 20's `JSON.parse` does not give. Nesting deeper than `maxDepth` is an error too, so a
 * payload of 100k `[` is refused before anything recurses over it.
 */
export function findJsonError(text: string, maxDepth: number): JsonSyntaxError | undefined {
  let i = 0;
  const n = text.length;
  // Each entry is the container being filled: "[" or "{".
  const stack: string[] = [];

  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const fail = (message: string): JsonSyntaxError => ({ offset: Math.min(i, n), message });
  const describe = () =>
    i >= n ? "unexpected end of input" : `unexpected character ${JSON.stringify(text[i])}`;

  const scanString = (): JsonSyntaxError | undefined => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return fail("control character in string (escape it)");
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            return fail("invalid \\u escape (needs four hex digits)");
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          i++;
          return fail("invalid escape in string");
        }
        continue;
      }
      i++;
    }
    return fail("unterminated string");
  };

  const scanNumber = (): JsonSyntaxError | undefined => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 512));
    if (!m || m[0] === "" || m[0] === "-") return fail("invalid number");
    i += m[0].length;
    return undefined;
  };

  // Scans one value; containers push onto the stack instead of recursing.
  const scanValue = (): JsonSyntaxError | undefined => {
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      if (stack.length >= maxDepth) return fail(`nesting deeper than ${maxDepth} levels`);
      stack.push(c);
      i++;
      return undefined;
    }
    if (c === '"') return scanString();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return scanNumber();
    for (const lit of ["true", "false", "null"]) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return undefined;
      }
    }
    return fail(describe());
  };

  // After "{" or "," in an object: expects `"key": value`.
  const scanMember = (): JsonSyntaxError | undefined => {
    ws();
    if (text[i] !== '"')
      return fail(i >= n ? "unexpected end of input" : "expected a property name in double quotes");
    const err = scanString();
    if (err) return err;
    ws();
    if (text[i] !== ":") return fail("expected ':' after property name");
    i++;
    return scanValue();
  };

  let err = scanValue();
  if (err) return err;
  // Loop: after finishing a value, decide what comes next from the innermost container.
  let justOpened = stack.length > 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    ws();
    if (justOpened) {
      justOpened = false;
      const close = top === "{" ? "}" : "]";
      if (text[i] === close) {
        i++;
        stack.pop();
        continue;
      }
      const before = stack.length;
      err = top === "{" ? scanMember() : scanValue();
      if (err) return err;
      justOpened = stack.length > before;
      continue;
    }
    if (text[i] === ",") {
      i++;
      ws();
      const before = stack.length;
      err = top === "{" ? scanMember() : scanValue();
      if (err) return err;
      justOpened = stack.length > before;
      continue;
    }
    if ((top === "{" && text[i] === "}") || (top === "[" && text[i] === "]")) {
      i++;
      stack.pop();
      continue;
    }
    return fail(
      i >= n ? "unexpected end of input" : `expected ',' or '${top === "{" ? "}" : "]"}'`,
    );
  }
  ws();
  if (i < n) return fail("unexpected data after the JSON value");
  return undefined;
}
