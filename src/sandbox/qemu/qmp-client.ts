import type { Socket } from "node:net";
import { connectUnixSocket } from "./connect-unix-socket.ts";

/** An asynchronous QMP event such as `MIGRATION` or `STOP`. */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
}

/** A QMP connection past the capabilities handshake. */
export interface QmpClient {
  /** Runs one command; resolves with its `return` value, rejects with QEMU's error text. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Resolves with the first event named `name` (after this call) that `match` accepts. */
  waitForEvent(
    name: string,
    timeoutMs: number,
    match?: (event: QmpEvent) => boolean,
  ): Promise<QmpEvent>;
  close(): void;
}

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * Connects to QEMU's QMP socket (retrying until `deadline`, epoch ms, while QEMU creates it)
 * and negotiates capabilities. Commands are answered in order, so replies are matched FIFO.
 */
export async function connectQmp(
  socketPath: string,
  deadline: number,
  stillWaiting: () => boolean = () => true,
): Promise<QmpClient> {
  const socket: Socket = await connectUnixSocket(socketPath, deadline, stillWaiting);
  socket.setEncoding("utf8");
  const replies: Waiter[] = [];
  const listeners = new Set<(event: QmpEvent) => void>();
  let greeted: Waiter | undefined;
  let greeting = false;
  let ended: Error | undefined;
  let buffered = "";

  const failAll = (err: Error): void => {
    ended ??= err;
    greeted?.reject(err);
    greeted = undefined;
    for (const w of replies.splice(0)) w.reject(err);
  };
  socket.on("error", (err) => failAll(new Error(`QMP connection failed: ${err.message}`)));
  socket.on("close", () => failAll(new Error("QMP connection closed")));
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
        failAll(new Error(`QMP sent invalid JSON: ${line.slice(0, 200)}`));
        socket.destroy();
        return;
      }
      if ("QMP" in msg) {
        greeting = true;
        greeted?.resolve(msg);
        greeted = undefined;
      } else if (typeof msg.event === "string") {
        const event = { event: msg.event, data: msg.data as Record<string, unknown> | undefined };
        for (const l of [...listeners]) l(event);
      } else if ("return" in msg) {
        replies.shift()?.resolve(msg.return);
      } else if ("error" in msg) {
        const e = msg.error as { class?: string; desc?: string };
        replies.shift()?.reject(new Error(`QMP error ${e.class ?? ""}: ${e.desc ?? line}`));
      }
    }
  });

  const client: QmpClient = {
    execute(command, args) {
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => {
        replies.push({ resolve, reject });
        socket.write(
          `${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`,
        );
      });
    },
    waitForEvent(name, timeoutMs, match) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`no QMP event ${name} within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (event: QmpEvent): void => {
          if (event.event !== name || (match && !match(event))) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(event);
        };
        listeners.add(listener);
        socket.once("close", () => {
          if (!listeners.delete(listener)) return;
          clearTimeout(timer);
          reject(ended ?? new Error("QMP connection closed"));
        });
      });
    },
    close() {
      socket.destroy();
    },
  };

  try {
    await new Promise((resolve, reject) => {
      if (greeting) return resolve(undefined);
      if (ended) return reject(ended);
      greeted = { resolve, reject };
    });
    await client.execute("qmp_capabilities");
  } catch (err) {
    socket.destroy();
    throw err;
  }
  return client;
}
