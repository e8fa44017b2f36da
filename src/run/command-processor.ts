import type { Annotation } from "./events.ts";
import type { SecretMasker } from "./secret-masker.ts";
import { parseWorkflowCommand, type WorkflowCommand } from "./workflow-commands.ts";

/** How a processed line is shown. `group`/`endgroup` open and close a collapsible section. */
export type CommandLineKind =
  "output" | "command" | "group" | "endgroup" | "debug" | "error" | "warning" | "notice";

/** One line to show in the step's log, already masked. */
export interface CommandLogLine {
  kind: CommandLineKind;
  text: string;
  /** Group nesting depth the line is shown at (a group header is at its parent's depth). */
  group: number;
}

/** Settings and receivers for {@link createCommandProcessor}. */
export interface CommandProcessorOptions {
  /** Receives `::add-mask::` values and masks every line and annotation the processor emits. */
  masker?: SecretMasker;
  /** Show `::debug::` lines (ACTIONS_STEP_DEBUG). */
  debug?: boolean;
  /** Initial `::echo::` state; GitHub's default is off. */
  echo?: boolean;
  /** ACTIONS_ALLOW_UNSECURE_COMMANDS=true: re-enables `::set-env::` and `::add-path::`. */
  allowUnsecureCommands?: boolean;
  /** ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS=true: accepts weak `::stop-commands::` tokens. */
  allowUnsecureStopTokens?: boolean;
  onMask?(value: string): void;
  onAnnotation?(annotation: Annotation): void;
  onSetOutput?(name: string, value: string): void;
  onSaveState?(name: string, value: string): void;
  onSetEnv?(name: string, value: string): void;
  onAddPath?(path: string): void;
  onProblemMatcher?(action: "add" | "remove", command: WorkflowCommand): void;
}

/** Processes a step's output lines in order, applying workflow commands. */
export interface CommandProcessor {
  /** Processes one line (without its newline); returns what to show, possibly nothing. */
  process(line: string): CommandLogLine[];
  /** A command failed (a disabled or malformed command): GitHub fails the step. */
  readonly failed: boolean;
  readonly groupDepth: number;
  /** Between `::stop-commands::TOKEN` and `::TOKEN::`. */
  readonly stopped: boolean;
}

/** The commands GitHub's runner registers (ActionCommandManager extensions). */
const KNOWN = new Set([
  "add-mask",
  "add-matcher",
  "remove-matcher",
  "debug",
  "warning",
  "error",
  "notice",
  "group",
  "endgroup",
  "echo",
  "save-state",
  "set-output",
  "set-env",
  "add-path",
  "stop-commands",
]);

/** Commands never echoed: their effect is already visible, or echoing would leak a mask. */
const NO_ECHO = new Set([
  "add-mask",
  "debug",
  "warning",
  "error",
  "notice",
  "group",
  "endgroup",
  "echo",
]);

const DISABLED = (name: string): string =>
  `The \`${name}\` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the \`ACTIONS_ALLOW_UNSECURE_COMMANDS\` environment variable to \`true\`. For more information see: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/`;
const DEPRECATED = (name: string): string =>
  `The \`${name}\` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/`;
const WEAK_STOP_TOKEN =
  "You cannot use an end token that is an empty string, the string 'pause-logging', or another workflow command. For more information see: https://docs.github.com/actions/learn-github-actions/workflow-commands-for-github-actions#example-stopping-and-starting-workflow-commands or opt into insecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` environment variable to `true`.";

/** Thrown inside a handler; becomes GitHub's two error lines and fails the step. */
class CommandError extends Error {}

/**
 * Creates a processor that follows GitHub's runner as it behaves today:
 * - `set-env` and `add-path` are disabled since 2020-11 (GHSA-mfwh-5m23-j46w, CVE-2020-15228:
 *   stdout must not change env or PATH) and fail the step unless unsecure commands are allowed;
 * - `set-output` and `save-state` still work but warn (deprecated 2022-10, disabling postponed);
 * - between `::stop-commands::TOKEN` and `::TOKEN::` every line is plain output, so a forged
 *   sentinel cannot end it; weak tokens are refused;
 * - command lines are hidden unless `::echo::on`; unknown `::x::` lines are plain output.
 *
 * @example
 * const p = createCommandProcessor({ masker, onAnnotation: (a) => events.push(a) });
 * p.process("::warning file=a.ts,line=2::check this"); // [{ kind: "warning", text: "check this", group: 0 }]
 */
export function createCommandProcessor(options: CommandProcessorOptions = {}): CommandProcessor {
  const mask = (s: string): string => (options.masker ? options.masker.mask(s) : s);
  let echo = options.echo ?? false;
  let depth = 0;
  let failed = false;
  let stopToken: string | undefined;

  const annotate = (annotation: Annotation, out: CommandLogLine[]): void => {
    const masked: Annotation = { ...annotation, message: mask(annotation.message) };
    if (masked.title !== undefined) masked.title = mask(masked.title);
    if (masked.file !== undefined) masked.file = mask(masked.file);
    options.onAnnotation?.(masked);
    out.push({ kind: masked.level, text: masked.message, group: depth });
  };

  const handle = (cmd: WorkflowCommand, out: CommandLogLine[]): void => {
    switch (cmd.name) {
      case "add-mask":
        if (cmd.data.trim() === "") {
          annotate(
            {
              level: "warning",
              message: "Can't add secret mask for empty string in ::add-mask:: command.",
            },
            out,
          );
          return;
        }
        options.masker?.add(cmd.data);
        options.onMask?.(cmd.data);
        return;
      case "debug":
        if (options.debug) out.push({ kind: "debug", text: mask(cmd.data), group: depth });
        return;
      case "error":
      case "warning":
      case "notice":
        annotate(
          { level: cmd.name, message: cmd.data, ...annotationLocation(cmd.properties) },
          out,
        );
        return;
      case "group":
        out.push({ kind: "group", text: mask(cmd.data), group: depth });
        depth++;
        return;
      case "endgroup":
        if (depth > 0) depth--;
        out.push({ kind: "endgroup", text: "", group: depth });
        return;
      case "echo": {
        const v = cmd.data.trim().toLowerCase();
        if (v !== "on" && v !== "off")
          throw new CommandError(
            "Invalid echo command value. Possible values can be: 'on', 'off'.",
          );
        echo = v === "on";
        return;
      }
      case "set-output":
      case "save-state": {
        const name = cmd.properties["name"];
        if (!name)
          throw new CommandError(`Required field 'name' is missing in ::${cmd.name}:: command.`);
        annotate({ level: "warning", message: DEPRECATED(cmd.name) }, out);
        if (cmd.name === "set-output") options.onSetOutput?.(name, cmd.data);
        else options.onSaveState?.(name, cmd.data);
        return;
      }
      case "set-env": {
        if (!options.allowUnsecureCommands) throw new CommandError(DISABLED(cmd.name));
        const name = cmd.properties["name"];
        if (!name)
          throw new CommandError("Required field 'name' is missing in ::set-env:: command.");
        if (name.toUpperCase() === "NODE_OPTIONS")
          throw new CommandError(
            "Can't update NODE_OPTIONS environment variable using ::set-env:: command.",
          );
        options.onSetEnv?.(name, cmd.data);
        return;
      }
      case "add-path":
        if (!options.allowUnsecureCommands) throw new CommandError(DISABLED(cmd.name));
        options.onAddPath?.(cmd.data);
        return;
      case "add-matcher":
      case "remove-matcher":
        options.onProblemMatcher?.(cmd.name === "add-matcher" ? "add" : "remove", cmd);
        return;
      case "stop-commands": {
        const token = cmd.data;
        const weak =
          token.trim() === "" ||
          token.toLowerCase() === "pause-logging" ||
          KNOWN.has(token.toLowerCase());
        if (weak && !options.allowUnsecureStopTokens) throw new CommandError(WEAK_STOP_TOKEN);
        stopToken = token;
        return;
      }
    }
  };

  return {
    process(line: string): CommandLogLine[] {
      const out: CommandLogLine[] = [];
      const cmd = parseWorkflowCommand(line);
      if (stopToken !== undefined) {
        // Only the exact token resumes; everything else, commands included, is plain text.
        if (cmd !== undefined && cmd.name === stopToken) {
          stopToken = undefined;
          if (echo) out.push({ kind: "command", text: mask(line), group: depth });
          return out;
        }
        out.push({ kind: "output", text: mask(line), group: depth });
        return out;
      }
      if (cmd === undefined || !KNOWN.has(cmd.name)) {
        out.push({ kind: "output", text: mask(line), group: depth });
        return out;
      }
      if (echo && !NO_ECHO.has(cmd.name))
        out.push({ kind: "command", text: mask(line), group: depth });
      try {
        handle(cmd, out);
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        failed = true;
        annotate(
          { level: "error", message: `Unable to process command '${line}' successfully.` },
          out,
        );
        annotate({ level: "error", message: err.message }, out);
      }
      return out;
    },
    get failed() {
      return failed;
    },
    get groupDepth() {
      return depth;
    },
    get stopped() {
      return stopToken !== undefined;
    },
  };
}

/**
 * The location properties of an annotation command, validated as GitHub's runner does:
 * numbers must be positive integers, `endLine` alone stands for `line`, an end before its
 * start is dropped, and columns only make sense on a single line.
 */
function annotationLocation(p: Record<string, string>): Omit<Annotation, "level" | "message"> {
  const loc: Omit<Annotation, "level" | "message"> = {};
  const int = (key: string): number | undefined => {
    const v = p[key];
    if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
    const n = Number(v);
    return n >= 1 && Number.isSafeInteger(n) ? n : undefined;
  };
  if (p["title"]) loc.title = p["title"];
  if (p["file"]) loc.file = p["file"];
  let line = int("line");
  let endLine = int("endline");
  if (line === undefined && endLine !== undefined) line = endLine;
  if (line !== undefined && endLine !== undefined && endLine < line) endLine = undefined;
  let col = int("col");
  let endColumn = int("endcolumn");
  if (col === undefined && endColumn !== undefined) col = endColumn;
  if (line === undefined || (endLine !== undefined && endLine !== line)) {
    col = undefined;
    endColumn = undefined;
  }
  if (col !== undefined && endColumn !== undefined && endColumn < col) endColumn = undefined;
  if (line !== undefined) loc.line = line;
  if (endLine !== undefined) loc.endLine = endLine;
  if (col !== undefined) loc.col = col;
  if (endColumn !== undefined) loc.endColumn = endColumn;
  return loc;
}
