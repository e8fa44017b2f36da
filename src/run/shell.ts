import { ActvmError } from "../shared/errors.ts";

/** How a `run:` script is executed: the argv template (with `{0}` for the script path). */
export interface ShellCommand {
  /** argv with `{0}` replaced by the script path at run time. */
  argv: string[];
  /** Extension of the script file (GitHub names scripts by shell). */
  extension: string;
  /** What the user wrote (or the default), for logs. */
  display: string;
}

// GitHub's documented templates for the shells we support on Linux guests. `bash` with no
// explicit `shell:` is run with `-e` only; an explicit `shell: bash` adds `--noprofile --norc
// -eo pipefail`. Keeping this difference matters: scripts that rely on a failing pipe stage
// being ignored behave differently.
const BUILT_IN: Record<string, { template: string; extension: string }> = {
  bash: { template: "bash --noprofile --norc -eo pipefail {0}", extension: ".sh" },
  sh: { template: "sh -e {0}", extension: ".sh" },
  python: { template: "python3 {0}", extension: ".py" },
  pwsh: { template: "pwsh -command \". '{0}'\"", extension: ".ps1" },
  node: { template: "node {0}", extension: ".js" },
};

/**
 * Resolves a step's `shell:` (or the default when none is given) to the command that runs the
 * script file. Custom shells must contain `{0}`.
 */
export function resolveShell(shell: string | undefined): ShellCommand {
  if (shell === undefined || shell.trim() === "") {
    return { argv: ["bash", "-e", "{0}"], extension: ".sh", display: "bash -e {0}" };
  }
  const trimmed = shell.trim();
  const builtIn = BUILT_IN[trimmed];
  if (builtIn) {
    return {
      argv: splitTemplate(builtIn.template),
      extension: builtIn.extension,
      display: builtIn.template,
    };
  }
  if (!trimmed.includes("{0}")) {
    throw new ActvmError(
      "INVALID_WORKFLOW",
      `shell '${trimmed}' is not a known shell and has no {0}`,
      {
        subsystem: "run/shell",
        hint: "use bash, sh, python, or a command template such as 'perl {0}'",
      },
    );
  }
  const argv = splitTemplate(trimmed);
  const program = argv[0] ?? "";
  return {
    argv,
    extension: program === "python" || program === "python3" ? ".py" : "",
    display: trimmed,
  };
}

/** Substitutes the script path into a shell's argv. */
export function shellArgv(shell: ShellCommand, scriptPath: string): string[] {
  return shell.argv.map((a) => a.split("{0}").join(scriptPath));
}

// Splits a template on whitespace, honouring single and double quotes, as GitHub's runner
// does for custom shell templates.
function splitTemplate(template: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  let has = false;
  for (const ch of template) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += ch;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}
