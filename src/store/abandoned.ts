/** The error recorded on a run whose recording process died before it finished. */
export const ABANDONED_RUN_ERROR = "actvm exited before the run finished";
