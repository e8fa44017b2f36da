import { closeSync, openSync, renameSync, writeSync } from "node:fs";

/** The guest's serial console, kept on disk with a bounded size. */
export interface ConsoleLog {
  write(chunk: Buffer): void;
  /** The last `maxChars` characters written (from memory), for error messages. */
  tail(maxChars?: number): string;
  close(): void;
}

/**
 * Writes console output to `path`; when the file reaches `maxBytes / 2` it is moved to
 * `<path>.1` (replacing the previous one) and a new file begins, so a guest that floods its
 * console costs at most `maxBytes` of disk. Write errors (disk full) are dropped: the console
 * is a diagnostic aid and must never fail the job.
 */
export function createConsoleLog(path: string, maxBytes = 4 * 1024 * 1024): ConsoleLog {
  const half = Math.max(1024, Math.floor(maxBytes / 2));
  let fd: number | undefined = openSync(path, "w", 0o600);
  let written = 0;
  let recent = "";
  return {
    write(chunk) {
      recent = (recent + chunk.toString("utf8")).slice(-16 * 1024);
      if (fd === undefined) return;
      try {
        if (written + chunk.length > half && written > 0) {
          closeSync(fd);
          renameSync(path, `${path}.1`);
          fd = openSync(path, "w", 0o600);
          written = 0;
        }
        writeSync(fd, chunk);
        written += chunk.length;
      } catch {
        // Keep only the in-memory tail from here on.
      }
    },
    tail(maxChars = 2000) {
      return recent.slice(-maxChars);
    },
    close() {
      if (fd === undefined) return;
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
      fd = undefined;
    },
  };
}
