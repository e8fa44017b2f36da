import { connect } from "node:net";

/**
 * Asks QEMU to quit over its QMP socket (greeting, `qmp_capabilities`, `quit`). Resolves true
 * once QEMU acknowledged or closed the connection, false when it could not be reached or did
 * not answer within `timeoutMs`; never rejects, as the caller kills QEMU either way.
 */
export function qmpQuit(socketPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let buffered = "";
    let step: "greeting" | "capabilities" | "quit" = "greeting";
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding("utf8");
    socket.on("error", () => finish(step === "quit"));
    socket.on("close", () => finish(step === "quit"));
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return finish(false);
        }
        if (step === "greeting" && "QMP" in msg) {
          step = "capabilities";
          socket.write('{"execute":"qmp_capabilities"}\n');
        } else if (step === "capabilities" && "return" in msg) {
          step = "quit";
          socket.write('{"execute":"quit"}\n');
        } else if (step === "quit" && "return" in msg) {
          return finish(true);
        } else if ("error" in msg) {
          return finish(false);
        }
        // Asynchronous events (SHUTDOWN, ...) are skipped.
      }
    });
  });
}
