/** One `deb` source from the host's apt configuration. */
export interface AptSource {
  /** `deb` or `deb-src`. */
  type: "deb" | "deb-src";
  uri: string;
  suites: string[];
  components: string[];
  /** The keyring from `Signed-By` / `[signed-by=...]` when it names a file. */
  signedBy?: string;
  /** Where it was read, for messages: `file:line`. */
  origin: string;
}

function splitWords(v: string): string[] {
  return v.split(/\s+/).filter((w) => w !== "");
}

/**
 * Parses a deb822 `.sources` file (apt ≥ 1.1): paragraphs of `Field: value` separated by blank
 * lines, continuation lines starting with whitespace. Paragraphs with `Enabled: no` are skipped;
 * one entry is produced per type and URI.
 *
 * @example
 * parseDeb822Sources("Types: deb\nURIs: http://m/debian\nSuites: bookworm\nComponents: main\n", "x.sources");
 */
export function parseDeb822Sources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  let fields = new Map<string, string>();
  let start = 0;
  let last: string | undefined;
  const flush = (): void => {
    if (fields.size > 0) out.push(...paragraphToSources(fields, `${file}:${start}`));
    fields = new Map();
    last = undefined;
  };
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.startsWith("#")) return;
    if (line.trim() === "") return flush();
    if (/^\s/.test(line)) {
      // A continuation line; a lone "." stands for an empty line inside a multi-line value.
      if (last !== undefined) {
        const more = line.trim() === "." ? "" : line.trim();
        fields.set(last, `${fields.get(last) ?? ""}\n${more}`);
      }
      return;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) return;
    if (fields.size === 0) start = i + 1;
    last = line.slice(0, colon).trim().toLowerCase();
    fields.set(last, line.slice(colon + 1).trim());
  });
  flush();
  return out;
}

function paragraphToSources(fields: Map<string, string>, origin: string): AptSource[] {
  const enabled = (fields.get("enabled") ?? "yes").trim().toLowerCase();
  if (enabled === "no" || enabled === "false") return [];
  const types = splitWords(fields.get("types") ?? "").filter(
    (t): t is AptSource["type"] => t === "deb" || t === "deb-src",
  );
  const uris = splitWords(fields.get("uris") ?? "");
  const suites = splitWords(fields.get("suites") ?? "");
  const components = splitWords(fields.get("components") ?? "");
  // Signed-By may also embed an ASCII-armoured key block; only a file path is useful here.
  const signed = fields.get("signed-by")?.trim();
  const signedBy = signed && !signed.includes("\n") ? splitWords(signed)[0] : undefined;
  const out: AptSource[] = [];
  for (const type of types)
    for (const uri of uris)
      out.push({
        type,
        uri,
        suites,
        components,
        ...(signedBy ? { signedBy } : {}),
        origin,
      });
  return out;
}

/**
 * Parses a one-line-style `sources.list`: `deb [opt=val ...] URI SUITE [COMPONENT...]`, with
 * `#` comments. Options in brackets are read for `signed-by`.
 *
 * @example
 * parseOneLineSources("deb [signed-by=/k.gpg] http://m/debian bookworm main\n", "sources.list");
 */
export function parseOneLineSources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf("#");
    let line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    const m = /^(deb|deb-src)\s+/.exec(line);
    if (!m) return;
    const type = m[1] as AptSource["type"];
    line = line.slice(m[0].length);
    let signedBy: string | undefined;
    let enabled = true;
    if (line.startsWith("[")) {
      const close = line.indexOf("]");
      if (close < 0) return;
      for (const opt of splitWords(line.slice(1, close))) {
        const eq = opt.indexOf("=");
        if (eq < 0) continue;
        const key = opt.slice(0, eq).replace(/[+-]$/, "").toLowerCase();
        const value = opt.slice(eq + 1);
        if (key === "signed-by") signedBy = value.split(",")[0];
        if (key === "enabled" && value.toLowerCase() === "no") enabled = false;
      }
      line = line.slice(close + 1);
    }
    const [uri, suite, ...components] = splitWords(line);
    if (!enabled || uri === undefined || suite === undefined) return;
    out.push({
      type,
      uri,
      suites: [suite],
      components,
      ...(signedBy ? { signedBy } : {}),
      origin: `${file}:${i + 1}`,
    });
  });
  return out;
}
