/**
 * Wire protocol version. The agent announces it in `hello`; the host refuses an agent that
 * speaks a different one, because both sides are always built from the same source.
 */
export const PROTOCOL_VERSION = 1;

/** The agent program's own version, reported in `hello` and `pong`. */
export const AGENT_VERSION = "0.1.0";
