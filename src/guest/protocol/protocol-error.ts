/**
 * A violation of the agent wire protocol (bad framing, oversize frame, malformed message). Lives
 * in guest/ so the agent stays free of host-side imports; the host client maps it to ActvmError.
 */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}
