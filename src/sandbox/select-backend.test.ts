import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isActvmError } from "../shared/errors.ts";
import { createProvider, selectBackend } from "./select-backend.ts";

const root = mkdtempSync(join(tmpdir(), "actvm-select-"));
const baseDir = join(root, "vms");
const bwrapWorks = (await createProvider("bwrap", { baseDir }).probe()).available;
const REASON = "bubblewrap is not usable here; install the package: apt-get install bubblewrap";

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("createProvider", () => {
  it("builds the host, bwrap and gvisor drivers by name", () => {
    expect(createProvider("host", { baseDir }).name).toBe("host");
    expect(createProvider("bwrap", { baseDir }).name).toBe("bwrap");
    expect(createProvider("gvisor", { baseDir }).name).toBe("gvisor");
  });

  it("builds qemu, which looks for its image beside the sandboxes unless imagesDir says", async () => {
    const qemu = createProvider("qemu", { baseDir });
    expect(qemu.name).toBe("qemu");
    const probe = await qemu.probe();
    expect(probe.available).toBe(false);
    expect(probe.isolation).toBe("vm");
    if (probe.fix === "actvm image build") {
      expect(probe.detail).toContain(join(root, "cache", "images"));
    }
    const elsewhere = await createProvider("qemu", {
      baseDir,
      imagesDir: join(root, "other-images"),
    }).probe();
    if (elsewhere.fix === "actvm image build") {
      expect(elsewhere.detail).toContain(join(root, "other-images"));
    }
  });

  it("looks for gvisor's image beside the sandboxes by default, or where imagesDir says", async () => {
    const byDefault = await createProvider("gvisor", { baseDir }).probe();
    const elsewhere = await createProvider("gvisor", {
      baseDir,
      imagesDir: join(root, "other-images"),
    }).probe();
    // No image in either place: both must say so (when runsc itself works here).
    for (const p of [byDefault, elsewhere]) expect(p.available).toBe(false);
    if (byDefault.fix === "actvm image build") {
      expect(byDefault.detail).toMatch(/image "default" is not built/);
    }
  });

  it.each(["firecracker", "remote"] as const)(
    "refuses %s as not implemented in this build",
    (name) => {
      expect(() => createProvider(name, { baseDir })).toThrow(
        expect.objectContaining({
          code: "SANDBOX_UNAVAILABLE",
          message: expect.stringMatching(new RegExp(`${name}.*not implemented yet in this build`)),
        }),
      );
    },
  );
});

describe("selectBackend", () => {
  if (!bwrapWorks && process.env.ACTVM_REQUIRE_ALL === "1") {
    it("requires a working bubblewrap (ACTVM_REQUIRE_ALL=1)", () => expect.fail(REASON));
  }

  it.skipIf(!bwrapWorks)(
    `auto picks bwrap when it works${bwrapWorks ? "" : ` (skipped: ${REASON})`}`,
    async () => {
      const s = await selectBackend("auto", { baseDir });
      expect(s.provider.name).toBe("bwrap");
      expect(s.probe.isolation).toBe("namespaces");
      expect(s.reason).toMatch(/^bwrap: .*user namespaces work/);
      // gvisor ranks above bwrap; without an image it must be skipped with its reason.
      expect(s.reason).toMatch(/gvisor unavailable: /);
    },
  );

  it("auto falls back to host with a reason that names the fix and the missing isolation", async () => {
    const s = await selectBackend("auto", { baseDir, bwrapPath: "/nonexistent/bwrap" });
    expect(s.provider.name).toBe("host");
    expect(s.probe.isolation).toBe("none");
    expect(s.reason).toMatch(/^host: /);
    expect(s.reason).toContain("apt-get install bubblewrap");
    expect(s.reason).toContain("NOT isolated");
  });

  it("fails for an explicitly requested backend that is unavailable, carrying detail and fix", async () => {
    const err = await selectBackend("bwrap", { baseDir, bwrapPath: "/nonexistent/bwrap" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isActvmError(err, "SANDBOX_UNAVAILABLE")).toBe(true);
    expect(String(err)).toContain("not installed");
    expect((err as { hint?: string }).hint).toBe("apt-get install bubblewrap");
  });

  it("accepts an explicit host backend", async () => {
    const s = await selectBackend("host", { baseDir });
    expect(s.provider.name).toBe("host");
    expect(s.reason).toMatch(/^host: .*NOT isolated/);
  });
});
