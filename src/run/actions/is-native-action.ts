import type { UsesRef } from "./uses-ref.ts";

/**
 * True for actions the runner implements itself instead of fetching: `actions/checkout` at any
 * version (the workspace is already the local repository, so cloning it again is wrong).
 *
 * @example
 * isNativeAction(parseUsesReference("actions/checkout@v4").value!); // true
 */
export function isNativeAction(ref: UsesRef): boolean {
  return (
    ref.kind === "remote" &&
    ref.owner.toLowerCase() === "actions" &&
    ref.repo.toLowerCase() === "checkout" &&
    ref.path === undefined
  );
}
