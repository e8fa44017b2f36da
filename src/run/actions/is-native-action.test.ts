import { describe, expect, it } from "vitest";
import { isNativeAction } from "./is-native-action.ts";
import { parseUsesReference } from "./parse-uses-reference.ts";

const ref = (uses: string) => parseUsesReference(uses).value!;

describe("isNativeAction", () => {
  it("is true for actions/checkout at any version", () => {
    expect(isNativeAction(ref("actions/checkout@v4"))).toBe(true);
    expect(isNativeAction(ref("actions/checkout@" + "a".repeat(40)))).toBe(true);
    expect(isNativeAction(ref("Actions/Checkout@main"))).toBe(true);
  });

  it("is false for other actions, sub-paths, forks and local look-alikes", () => {
    expect(isNativeAction(ref("actions/setup-node@v4"))).toBe(false);
    expect(isNativeAction(ref("actions/checkout/sub@v4"))).toBe(false);
    expect(isNativeAction(ref("someone/checkout@v4"))).toBe(false);
    expect(isNativeAction(ref("./actions/checkout"))).toBe(false);
    expect(isNativeAction(ref("docker://actions/checkout"))).toBe(false);
  });
});
