/** Resolving and fetching the actions named by steps' `uses:`. */
export type { UsesRef } from "./uses-ref.ts";
export { parseUsesReference, isFullSha } from "./parse-uses-reference.ts";
export type { UsesLocation } from "./parse-uses-reference.ts";
export { isNativeAction } from "./is-native-action.ts";
export { createActionCache } from "./action-cache.ts";
export type { ActionCache, ActionCacheOptions, ResolvedAction } from "./action-cache.ts";
