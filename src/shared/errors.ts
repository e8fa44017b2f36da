/**
 * The single registry of runtime error codes. Every runtime failure in actvm is an
 * {@link ActvmError} carrying one of these codes, so messages, exit codes and HTTP statuses
 * stay stable and greppable.
 */
export const ERROR_CODES = {
  USAGE: { status: 400, exit: 2, message: "invalid usage: {detail}" },
  INVALID_WORKFLOW: { status: 400, exit: 2, message: "invalid workflow: {detail}" },
  INVALID_CONFIG: { status: 400, exit: 2, message: "invalid configuration: {detail}" },
  INVALID_EVENT: { status: 400, exit: 2, message: "invalid event: {detail}" },
  NOT_FOUND: { status: 404, exit: 2, message: "{detail}" },
  EXPRESSION: { status: 400, exit: 1, message: "expression error: {detail}" },
  SANDBOX_UNAVAILABLE: { status: 503, exit: 1, message: "sandbox unavailable: {detail}" },
  VM_ALLOCATION: { status: 503, exit: 1, message: "could not allocate a sandbox: {detail}" },
  SESSION_LIMIT: { status: 429, exit: 1, message: "session limit reached: {detail}" },
  SESSION_NOT_FOUND: { status: 404, exit: 1, message: "session not found: {detail}" },
  AGENT_PROTOCOL: { status: 502, exit: 1, message: "guest agent protocol error: {detail}" },
  AGENT_TIMEOUT: { status: 504, exit: 1, message: "guest agent did not answer: {detail}" },
  AGENT_GONE: { status: 502, exit: 1, message: "guest agent exited: {detail}" },
  EXEC_FAILED: { status: 500, exit: 1, message: "command could not be started: {detail}" },
  ACTION_RESOLVE: { status: 400, exit: 1, message: "could not resolve action: {detail}" },
  STORE: { status: 500, exit: 1, message: "store error: {detail}" },
  CANCELLED: { status: 409, exit: 1, message: "cancelled: {detail}" },
  INTERNAL: { status: 500, exit: 1, message: "internal error: {detail}" },
  SESSION_STATE: { status: 409, exit: 1, message: "invalid session state change: {detail}" },
  IMAGE_BUILD: { status: 500, exit: 1, message: "image build failed: {detail}" },
  NEEDS_ROOT: { status: 403, exit: 2, message: "needs root: {detail}" },
  VMM_FAILED: { status: 502, exit: 1, message: "VMM failed (infrastructure failure): {detail}" },
} as const satisfies Record<string, { status: number; exit: number; message: string }>;

/** A code from {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The one runtime error class. `subsystem` names where it happened and is printed as a
 * prefix: `[sandbox/bwrap] could not allocate a sandbox: bwrap is not installed`.
 *
 * @example
 * throw new ActvmError("VM_ALLOCATION", "bwrap exited with 1", { subsystem: "sandbox/bwrap" });
 */
export class ActvmError extends Error {
  readonly code: ErrorCode;
  readonly subsystem: string | undefined;
  readonly hint: string | undefined;
  readonly status: number;
  readonly exitCode: number;

  constructor(
    code: ErrorCode,
    detail: string,
    opts: { subsystem?: string; hint?: string; cause?: unknown } = {},
  ) {
    const def = ERROR_CODES[code];
    const text = def.message.replace("{detail}", detail);
    super(opts.subsystem ? `[${opts.subsystem}] ${text}` : text, { cause: opts.cause });
    this.name = "ActvmError";
    this.code = code;
    this.subsystem = opts.subsystem;
    this.hint = opts.hint;
    this.status = def.status;
    this.exitCode = def.exit;
  }
}

/** True when `err` is an {@link ActvmError}, optionally with the given code. */
export function isActvmError(err: unknown, code?: ErrorCode): err is ActvmError {
  return err instanceof ActvmError && (code === undefined || err.code === code);
}
