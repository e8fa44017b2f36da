import { createReadStream, createWriteStream, fstatSync } from "node:fs";
import { open } from "node:fs/promises";
import { connect, Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import type { AgentChannel } from "./agent-server.ts";

function isPipe(fd: number): boolean {
  try {
    const info = fstatSync(fd);
    return info.isFIFO() || info.isSocket();
  } catch {
    return false;
  }
}

/** Where the agent talks to the host. */
export type ChannelSpec =
  { kind: "stdio" } | { kind: "device"; path: string } | { kind: "socket"; path: string };

/**
 * Opens the channel. Standard pipes are wrapped as non-blocking sockets: Node writes to a
 * stdout pipe synchronously on Linux, which would freeze every timer while the host is slow. `device` opens a path read-write (a virtio-serial port such as
 * /dev/vport0p1, or a FIFO pair's end); `socket` connects to a unix socket.
 */
export async function openChannel(spec: ChannelSpec): Promise<AgentChannel & { close(): void }> {
  switch (spec.kind) {
    case "stdio": {
      const input: Readable = isPipe(0)
        ? new Socket({ fd: 0, readable: true, writable: false })
        : process.stdin;
      const output: Writable = isPipe(1)
        ? new Socket({ fd: 1, readable: false, writable: true })
        : process.stdout;
      return { input, output, close: () => output.end() };
    }
    case "device": {
      const handle = await open(spec.path, "r+");
      const fd = handle.fd;
      // One descriptor for both directions: a virtio-serial port can only be opened once.
      const input = createReadStream("", { fd, autoClose: false, highWaterMark: 64 * 1024 });
      const output = createWriteStream("", { fd, autoClose: false });
      return {
        input,
        output,
        close: () => {
          input.destroy();
          output.destroy();
          void handle.close().catch(() => undefined);
        },
      };
    }
    case "socket": {
      const socket = connect(spec.path);
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      return { input: socket, output: socket, close: () => socket.destroy() };
    }
  }
}
