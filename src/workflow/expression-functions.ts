import { data } from "@actions/expressions";
import type { FunctionDefinition, FunctionInfo } from "@actions/expressions/funcs/info";
import type { StatusState } from "./model.ts";

/**
 * The runtime functions GitHub adds to the library's built-ins. `hashFiles` takes up to 255
 * patterns, the library's own cap on call arguments.
 */
export const RUNTIME_FUNCTIONS: readonly FunctionInfo[] = [
  { name: "success", minArgs: 0, maxArgs: 0 },
  { name: "failure", minArgs: 0, maxArgs: 0 },
  { name: "cancelled", minArgs: 0, maxArgs: 0 },
  { name: "always", minArgs: 0, maxArgs: 0 },
  { name: "hashFiles", minArgs: 1, maxArgs: 255 },
];

/**
 * Builds the implementations of {@link RUNTIME_FUNCTIONS} for one evaluation pass. `hashFiles`
 * is synchronous here: it receives the evaluated patterns and must answer at once (see
 * evaluateExpression for the passes that make this work).
 */
export function runtimeFunctions(
  status: StatusState,
  hashFiles: (patterns: string[]) => string,
): Map<string, FunctionDefinition> {
  const info = (name: string): FunctionInfo => {
    const found = RUNTIME_FUNCTIONS.find((f) => f.name === name);
    if (!found) throw new Error(`no runtime function ${name}`);
    return found;
  };
  const bool = (name: string, value: () => boolean): FunctionDefinition => ({
    ...info(name),
    call: () => new data.BooleanData(value()),
  });
  // The library looks implementations up by lowercase name.
  return new Map<string, FunctionDefinition>([
    ["success", bool("success", () => status.status === "success")],
    ["failure", bool("failure", () => status.status === "failure")],
    ["cancelled", bool("cancelled", () => status.status === "cancelled")],
    ["always", bool("always", () => true)],
    [
      "hashfiles",
      {
        ...info("hashFiles"),
        call: (...args) => new data.StringData(hashFiles(args.map((a) => a.coerceString()))),
      },
    ],
  ]);
}
