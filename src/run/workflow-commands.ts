/**
 * A workflow command printed by a step: `::name k1=v1,k2=v2::data`. Property names are
 * lower-cased because GitHub's runner looks them up case-insensitively (`endLine` and
 * `endline` are the same property).
 */
export interface WorkflowCommand {
  name: string;
  properties: Record<string, string>;
  data: string;
}

/**
 * Parses one output line as a workflow command, as GitHub's runner does (`ActionCommand.
 * TryParseV2`): leading whitespace is ignored, the line must start with `::` and contain a
 * second `::`; the name runs to the first space; properties are `,`-separated `key=value`
 * pairs (pairs with an empty side are dropped). Data unescapes `%25` `%0D` `%0A`; property
 * values also `%3A` and `%2C`. Returns undefined for anything else. Whether the name is a
 * known command is the processor's business.
 *
 * @example
 * parseWorkflowCommand("::error file=a.ts,line=3::bad%0Athing");
 * // { name: "error", properties: { file: "a.ts", line: "3" }, data: "bad\nthing" }
 */
export function parseWorkflowCommand(line: string): WorkflowCommand | undefined {
  const text = line.trimStart();
  if (!text.startsWith("::")) return undefined;
  const end = text.indexOf("::", 2);
  if (end < 0) return undefined;
  const info = text.slice(2, end);
  const space = info.indexOf(" ");
  const name = space < 0 ? info : info.slice(0, space);
  if (name === "") return undefined;
  const properties: Record<string, string> = Object.create(null) as Record<string, string>;
  if (space > 0) {
    for (const part of info
      .slice(space + 1)
      .trim()
      .split(",")) {
      const eq = part.indexOf("=");
      if (eq <= 0 || eq === part.length - 1) continue;
      properties[part.slice(0, eq).toLowerCase()] = unescape(part.slice(eq + 1), PROPERTY_ESCAPES);
    }
  }
  return { name, properties, data: unescape(text.slice(end + 2), DATA_ESCAPES) };
}

const DATA_ESCAPES: Record<string, string> = { "%25": "%", "%0D": "\r", "%0A": "\n" };
const PROPERTY_ESCAPES: Record<string, string> = { ...DATA_ESCAPES, "%3A": ":", "%2C": "," };

// Case-sensitive like the runner's ordinal Replace. One left-to-right pass, so `%250A` decodes to `%0A` (the inverse of the encoder) rather
// than to a newline.
function unescape(value: string, table: Record<string, string>): string {
  if (!value.includes("%")) return value;
  return value.replace(/%(?:25|0D|0A|3A|2C)/g, (m) => table[m] ?? m);
}
