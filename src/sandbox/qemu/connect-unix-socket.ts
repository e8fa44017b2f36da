import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Connects to a unix socket that another process is about to create, retrying while it does
 * not exist or refuses connections. Rejects with the last error once `deadline` (epoch ms)
 * passes or `stillWaiting()` returns false (e.g. the process that would create it died).
 */
export async function connectUnixSocket(
  path: string,
  deadline: number,
  stillWaiting: () => boolean = () => true,
): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect(path);
        socket.once("connect", () => {
          socket.off("error", reject);
          resolve(socket);
        });
        socket.once("error", reject);
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const retry = code === "ENOENT" || code === "ECONNREFUSED";
      if (!retry || Date.now() >= deadline || !stillWaiting()) throw err;
      await sleep(25);
    }
  }
}
