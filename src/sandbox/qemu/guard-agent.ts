import type { AgentClient } from "../../guest/index.ts";

/**
 * Wraps an agent client so that once `failure()` returns an error (the VMM died or hung),
 * every call that fails reports that error instead of the transport's generic "channel
 * closed", so the job is marked as an infrastructure failure rather than a failed step.
 */
export function guardAgent(client: AgentClient, failure: () => Error | undefined): AgentClient {
  const map = (err: unknown): unknown => failure() ?? err;
  const guard = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      throw map(err);
    });
  return {
    ping: () => guard(client.ping()),
    exec(req, handlers) {
      const handle = client.exec(req, handlers);
      const result = guard(handle.result);
      // As with the plain client, an unobserved failure must not crash the host.
      result.catch(() => undefined);
      return { result, kill: (signal) => handle.kill(signal) };
    },
    putTar: (dir, tar) => guard(client.putTar(dir, tar)),
    getTar(path) {
      return {
        async *[Symbol.asyncIterator]() {
          try {
            yield* client.getTar(path);
          } catch (err) {
            throw map(err);
          }
        },
      };
    },
    hashFiles: (root, patterns) => guard(client.hashFiles(root, patterns)),
    close: () => client.close(),
  };
}
