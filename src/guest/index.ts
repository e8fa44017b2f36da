export type {
  AgentClient,
  AgentInfo,
  ExecHandle,
  ExecHandlers,
  ExecRequest,
  ExecResult,
  ExecSignal,
  FileToWrite,
} from "./agent-client.ts";
export { agentBundlePath } from "./agent-bundle-path.ts";
export { connectAgent } from "./connect-agent.ts";
export type { AgentChannel, ConnectAgentOptions, ConnectedAgent } from "./connect-agent.ts";
export * from "./protocol/index.ts";
