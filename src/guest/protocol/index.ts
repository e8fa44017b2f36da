export { encodeFrame, FRAME_HEADER_BYTES, MAX_CHUNK_BYTES, MAX_FRAME_BYTES } from "./frame.ts";
export type { Frame } from "./frame.ts";
export { FrameDecoder } from "./frame-decoder.ts";
export { ProtocolError } from "./protocol-error.ts";
export { validateAgentMessage, validateHostMessage } from "./validate-message.ts";
export { AGENT_VERSION, PROTOCOL_VERSION } from "./version.ts";
export type * from "./messages.ts";
