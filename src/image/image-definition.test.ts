import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BASE_PACKAGES,
  createImageDefinition,
  debianArch,
  hashImageDefinition,
  imageId,
} from "./image-definition.ts";

const agent = Buffer.from("agent bundle v1");
const init = "#!/bin/sh\nexec node agent\n";

describe("createImageDefinition", () => {
  it("adds the user's packages to the base list, sorted and without duplicates", () => {
    const def = createImageDefinition("ci", ["zsh", "git", "zsh"], "amd64");
    expect(def.packages).toContain("zsh");
    expect(def.packages.filter((p) => p === "git")).toHaveLength(1);
    expect(def.packages).toEqual([...def.packages].sort());
    for (const p of BASE_PACKAGES) expect(def.packages).toContain(p);
    expect(def).toMatchObject({ name: "ci", suite: "bookworm", arch: "amd64" });
  });

  it("includes what hosted jobs expect", () => {
    for (const p of ["nodejs", "git", "curl", "jq", "python3", "build-essential", "sudo", "zstd"])
      expect(BASE_PACKAGES).toContain(p);
  });
});

describe("hashImageDefinition", () => {
  it("does not depend on the order or repetition of included packages", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("ripgrep", "zsh", "shellcheck", "git", "make"), {
          maxLength: 8,
        }),
        (extra) => {
          const a = createImageDefinition("d", extra, "amd64");
          const b = createImageDefinition("d", [...extra].reverse().concat(extra), "amd64");
          expect(hashImageDefinition(a, agent, init)).toBe(hashImageDefinition(b, agent, init));
        },
      ),
    );
  });

  it("changes with the packages, the agent bundle, the init script and the architecture", () => {
    const def = createImageDefinition("d", [], "amd64");
    const base = hashImageDefinition(def, agent, init);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(hashImageDefinition(createImageDefinition("d", ["zsh"], "amd64"), agent, init)).not.toBe(
      base,
    );
    expect(hashImageDefinition(def, Buffer.from("agent bundle v2"), init)).not.toBe(base);
    expect(hashImageDefinition(def, agent, `${init}\n`)).not.toBe(base);
    expect(hashImageDefinition(createImageDefinition("d", [], "arm64"), agent, init)).not.toBe(
      base,
    );
  });

  it("leaves the name out of the hash; the id carries it", () => {
    const a = hashImageDefinition(createImageDefinition("a", [], "amd64"), agent, init);
    const b = hashImageDefinition(createImageDefinition("b", [], "amd64"), agent, init);
    expect(a).toBe(b);
    expect(imageId("a", a)).toBe(`a-${a.slice(0, 12)}`);
    expect(imageId("a", a)).not.toBe(imageId("b", b));
  });
});

describe("debianArch", () => {
  it("maps Node's architecture names to Debian's", () => {
    expect(debianArch("x64")).toBe("amd64");
    expect(debianArch("arm64")).toBe("arm64");
    expect(debianArch("ppc64")).toBe("ppc64el");
  });
});
