import { readFileSync } from "node:fs";

/** Options of {@link startVmmWatchdog}. */
export interface VmmWatchdogOptions {
  /** The VMM process. */
  pid: number;
  /** Asks the guest agent for a sign of life. */
  ping(): Promise<unknown>;
  /** How often to look. */
  intervalMs: number;
  /** How long the VMM may be stopped, or a ping unanswered, before the VM counts as hung. */
  timeoutMs: number;
  /** Called once, with the reason, when the VM is judged hung. */
  onTrip(reason: string): void;
}

/** A running watchdog; `stop()` ends it without tripping. */
export interface VmmWatchdog {
  stop(): void;
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/**
 * Watches a VM: trips when its VMM process has been stopped (SIGSTOP, a debugger) for
 * `timeoutMs`, or when a ping to the guest agent stays unanswered (or fails) for that long.
 * Only one ping is in flight at a time, so a slow guest is never flooded.
 */
export function startVmmWatchdog(options: VmmWatchdogOptions): VmmWatchdog {
  const { pid, timeoutMs } = options;
  let stoppedSince: number | undefined;
  let pingSince: number | undefined;
  let done = false;
  const trip = (reason: string): void => {
    if (done) return;
    done = true;
    clearInterval(timer);
    options.onTrip(reason);
  };
  const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const tick = (): void => {
    const now = Date.now();
    const state = processState(pid);
    if (state === "T" || state === "t") {
      stoppedSince ??= now;
      if (now - stoppedSince >= timeoutMs) {
        return trip(`process ${pid} has been stopped for ${secs(now - stoppedSince)}`);
      }
    } else {
      stoppedSince = undefined;
    }
    if (pingSince !== undefined) {
      if (now - pingSince >= timeoutMs) {
        trip(`guest agent has not answered a ping for ${secs(now - pingSince)}`);
      }
      return;
    }
    const started = now;
    pingSince = started;
    options.ping().then(
      () => {
        if (pingSince === started) pingSince = undefined;
      },
      (err: unknown) => {
        if (done) return;
        trip(`guest agent ping failed: ${(err as Error).message}`);
      },
    );
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    stop() {
      done = true;
      clearInterval(timer);
    },
  };
}
