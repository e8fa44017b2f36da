export { openStore, type OpenStoreOptions } from "./open-store.ts";
export type { Store } from "./store.ts";
export type {
  AnnotationRecord,
  JobDetail,
  JobRecord,
  JobStatus,
  ListRunsQuery,
  LogLine,
  LogQuery,
  RunDetail,
  RunRecord,
  RunStatus,
  StepRecord,
  StepStatus,
} from "./records.ts";
export { parseDatabaseUrl, type DatabaseTarget } from "./database-url.ts";
export { ABANDONED_RUN_ERROR } from "./abandoned.ts";
