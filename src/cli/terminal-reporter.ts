import type { Annotation, JobResult, RunEvent, StepResult } from "../run/index.ts";

/** Where and how the reporter writes. */
export interface ReporterOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  mode: "live" | "plain" | "json";
  color: boolean;
  /** Show ::debug:: lines and system detail. */
  verbose?: boolean;
}

/** A run event consumer that prints; `finish` prints the closing summary. */
export interface TerminalReporter {
  handle(event: RunEvent): void;
  finish(): void;
}

interface JobView {
  key: string;
  name: string;
  status: "queued" | "running" | JobResult;
  started?: number;
  durationMs?: number;
  step?: string;
  error?: string;
  failedSteps: string[];
}

const ICON: Record<string, string> = {
  success: "✓",
  failure: "✗",
  cancelled: "⊘",
  skipped: "–",
  queued: "·",
  running: "▶",
};

/**
 * Prints the run event stream for people (`live` with a redrawn status footer on a TTY,
 * `plain` line output otherwise) or for programs (`json`: one event per line).
 */
export function createTerminalReporter(opts: ReporterOptions): TerminalReporter {
  const jobs = new Map<string, JobView>();
  const annotations: Array<{ jobKey: string; annotation: Annotation }> = [];
  const summaries: Array<{ jobKey: string; name: string; text: string }> = [];
  const c = colors(opts.color);
  let footerLines = 0;
  let lastFooter = 0;
  let footerTimer: NodeJS.Timeout | undefined;

  const write = (s: string) => opts.out.write(s);
  const label = (jobKey: string) => jobs.get(jobKey)?.name ?? jobKey;

  const clearFooter = () => {
    if (opts.mode !== "live" || footerLines === 0) return;
    write(`\x1b[${footerLines}A\x1b[J`);
    footerLines = 0;
  };
  const drawFooter = () => {
    if (opts.mode !== "live") return;
    const width = Math.max(40, (opts.out.columns ?? 100) - 1);
    const lines = [...jobs.values()]
      .filter((j) => j.status === "running" || j.status === "queued")
      .map((j) => {
        const secs = j.started ? ((Date.now() - j.started) / 1000).toFixed(0) + "s" : "";
        const text = `${ICON[j.status]} ${j.name} ${secs} ${j.step ? `— ${j.step}` : ""}`;
        return truncate(text, width);
      });
    if (lines.length === 0) return;
    write(c.dim(lines.join("\n")) + "\n");
    footerLines = lines.length;
    lastFooter = Date.now();
  };
  const line = (text: string) => {
    clearFooter();
    write(text + "\n");
    if (Date.now() - lastFooter > 100 || footerLines === 0) drawFooter();
    else if (!footerTimer) {
      footerTimer = setTimeout(() => {
        footerTimer = undefined;
        clearFooter();
        drawFooter();
      }, 120);
      footerTimer.unref?.();
    }
  };
  const prefix = (jobKey: string) => c.cyan(`[${label(jobKey)}]`);

  return {
    handle(event) {
      if (opts.mode === "json") {
        write(JSON.stringify(event) + "\n");
        return;
      }
      switch (event.type) {
        case "run.started":
          line(
            c.bold(`▶ ${event.workflow}`) +
              c.dim(` (${event.workflowFile}, ${event.event}, ${event.backend})`),
          );
          break;
        case "job.queued":
          jobs.set(event.jobKey, {
            key: event.jobKey,
            name: event.name,
            status: "queued",
            failedSteps: [],
          });
          break;
        case "job.started": {
          const j = jobs.get(event.jobKey);
          if (j) {
            j.status = "running";
            j.started = event.time;
          }
          line(`${prefix(event.jobKey)} ${c.dim(`started in ${event.backend} ${event.vmId}`)}`);
          break;
        }
        case "step.started": {
          const j = jobs.get(event.jobKey);
          if (j) j.step = event.name;
          line(`${prefix(event.jobKey)} ${c.bold("▶ " + event.name)}`);
          break;
        }
        case "step.output": {
          if (event.stream === "system" && !opts.verbose && event.stepIndex >= 0) break;
          const indent = "  ".repeat(event.group);
          const body =
            event.stream === "stderr"
              ? c.yellow(event.text)
              : event.stream === "system"
                ? c.dim(event.text)
                : event.text;
          line(`${prefix(event.jobKey)}   ${indent}${body}`);
          break;
        }
        case "step.annotation": {
          annotations.push({ jobKey: event.jobKey, annotation: event.annotation });
          const a = event.annotation;
          const where = a.file
            ? `${a.file}${a.line ? `:${a.line}` : ""}${a.col ? `:${a.col}` : ""}: `
            : "";
          const tint = a.level === "error" ? c.red : a.level === "warning" ? c.yellow : c.blue;
          line(`${prefix(event.jobKey)}   ${tint(`${a.level}: ${where}${a.message}`)}`);
          break;
        }
        case "step.completed": {
          if (event.conclusion === "skipped") {
            if (opts.verbose) line(`${prefix(event.jobKey)} ${c.dim(`– ${event.name} (skipped)`)}`);
            break;
          }
          const j = jobs.get(event.jobKey);
          if (event.outcome === "failure" && j) j.failedSteps.push(event.name);
          const tint = stepTint(c, event.outcome);
          const note =
            event.outcome !== event.conclusion
              ? ` (continue-on-error)`
              : event.timedOut
                ? " (timed out)"
                : "";
          line(
            `${prefix(event.jobKey)} ${tint(`${ICON[event.outcome] ?? "?"} ${event.name}`)} ${c.dim(formatMs(event.durationMs) + note)}`,
          );
          if (event.summary)
            summaries.push({ jobKey: event.jobKey, name: event.name, text: event.summary });
          break;
        }
        case "job.completed": {
          const j = jobs.get(event.jobKey) ?? {
            key: event.jobKey,
            name: event.jobKey,
            status: "queued",
            failedSteps: [],
          };
          j.status = event.result;
          j.durationMs = event.durationMs;
          if (event.error) j.error = event.error;
          jobs.set(event.jobKey, j);
          const tint = stepTint(c, event.result);
          line(
            `${prefix(event.jobKey)} ${tint(`${ICON[event.result]} job ${event.result}`)} ${c.dim(formatMs(event.durationMs))}${event.error ? " " + c.red(event.error) : ""}`,
          );
          break;
        }
        case "run.completed":
          line(
            stepTint(c, event.result)(c.bold(`${ICON[event.result]} workflow ${event.result}`)) +
              c.dim(` in ${formatMs(event.durationMs)}`),
          );
          break;
      }
    },
    finish() {
      if (footerTimer) clearTimeout(footerTimer);
      clearFooter();
      if (opts.mode === "json" || jobs.size === 0) return;
      const rows = [...jobs.values()];
      const w = Math.min(50, Math.max(4, ...rows.map((r) => r.name.length)));
      write("\n" + c.bold(`${"JOB".padEnd(w)}  RESULT     DURATION`) + "\n");
      for (const r of rows) {
        const result = String(r.status);
        write(
          `${truncate(r.name, w).padEnd(w)}  ${stepTint(c, result)(result.padEnd(9))}  ${r.durationMs !== undefined ? formatMs(r.durationMs) : ""}\n`,
        );
        for (const s of r.failedSteps) write(c.dim(`${"".padEnd(w)}  failed step: ${s}\n`));
        if (r.error) write(c.dim(`${"".padEnd(w)}  ${r.error}\n`));
      }
      if (annotations.length > 0) {
        write("\n" + c.bold("Annotations") + "\n");
        for (const { jobKey, annotation: a } of annotations) {
          const where = a.file
            ? `${a.file}${a.line ? `:${a.line}` : ""}${a.col ? `:${a.col}` : ""} `
            : "";
          write(
            `  ${a.level.padEnd(7)} ${label(jobKey)}: ${where}${a.title ? a.title + ": " : ""}${a.message}\n`,
          );
        }
      }
      if (summaries.length > 0) {
        write("\n" + c.bold("Step summaries") + "\n");
        for (const s of summaries)
          write(`  ${label(s.jobKey)} / ${s.name}\n${indentText(s.text.trimEnd(), "    ")}\n`);
      }
    },
  };
}

function stepTint(c: Colors, result: StepResult | JobResult | string): (s: string) => string {
  if (result === "success") return c.green;
  if (result === "failure") return c.red;
  if (result === "cancelled") return c.yellow;
  return c.dim;
}

/** `1.2s`, `350ms`, `2m03s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, "0")}s`;
}

function truncate(s: string, w: number): string {
  return s.length <= w ? s : s.slice(0, Math.max(0, w - 1)) + "…";
}

function indentText(s: string, indent: string): string {
  return s
    .split("\n")
    .map((l) => indent + l)
    .join("\n");
}

interface Colors {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  cyan(s: string): string;
}

function colors(on: boolean): Colors {
  const wrap = (open: number, close: number) => (s: string) =>
    on ? `\x1b[${open}m${s}\x1b[${close}m` : s;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    cyan: wrap(36, 39),
  };
}
