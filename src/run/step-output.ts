import type { Annotation } from "./events.ts";
import { createCommandProcessor } from "./command-processor.ts";
import { createLineSplitter } from "./line-splitter.ts";
import type { SecretMasker } from "./secret-masker.ts";

/** An event the pipeline produces; the job runner adds run, job and step identity. */
export type StepOutputEvent =
  | { type: "step.output"; stream: "stdout" | "stderr"; text: string; group: number }
  | { type: "step.annotation"; annotation: Annotation };

/** What the workflow commands of one step amounted to. */
export interface StepCommandsResult {
  /** Values from the deprecated `::set-output::`. */
  outputs: Record<string, string>;
  /** Values from the deprecated `::save-state::`. */
  state: Record<string, string>;
  /** A command failed the step (a disabled command was used). */
  failed: boolean;
}

/** Feeds a step's raw output through line splitting, workflow commands and masking. */
export interface OutputPipeline {
  write(stream: "stdout" | "stderr", chunk: Buffer): void;
  /** Flushes partial lines and returns what the commands set. */
  end(): StepCommandsResult;
}

/**
 * Creates the output pipeline for one step. Output is cut into lines first, so a secret
 * written in several pieces is whole again before it is masked; workflow commands are
 * processed on both streams in arrival order, as GitHub's runner does.
 */
export function createOutputPipeline(opts: {
  masker: SecretMasker;
  debug: boolean;
  emit: (event: StepOutputEvent) => void;
}): OutputPipeline {
  const outputs: Record<string, string> = {};
  const state: Record<string, string> = {};
  const processor = createCommandProcessor({
    masker: opts.masker,
    debug: opts.debug,
    onAnnotation: (annotation) => opts.emit({ type: "step.annotation", annotation }),
    onSetOutput: (name, value) => {
      outputs[name] = value;
    },
    onSaveState: (name, value) => {
      state[name] = value;
    },
  });
  const splitters = { stdout: createLineSplitter(), stderr: createLineSplitter() };
  const handleLines = (stream: "stdout" | "stderr", lines: string[]) => {
    for (const line of lines) {
      for (const shown of processor.process(line)) {
        // Annotations reach the log through their own event.
        if (shown.kind === "error" || shown.kind === "warning" || shown.kind === "notice") continue;
        if (shown.kind === "endgroup") continue;
        opts.emit({
          type: "step.output",
          stream,
          text: shown.kind === "group" ? `▸ ${shown.text}` : shown.text,
          group: shown.group,
        });
      }
    }
  };
  return {
    write(stream, chunk) {
      handleLines(stream, splitters[stream].push(chunk));
    },
    end() {
      handleLines("stdout", splitters.stdout.flush());
      handleLines("stderr", splitters.stderr.flush());
      return { outputs, state, failed: processor.failed };
    },
  };
}
