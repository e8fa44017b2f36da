import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "./diagnostic.ts";
import { loadConfig } from "./config.ts";

const system = { homedir: "/home/me", cpus: 6 };

describe("loadConfig", () => {
  it("fills every default from an empty environment", () => {
    const { value, diagnostics } = loadConfig({}, system);
    expect(diagnostics).toEqual([]);
    expect(value).toEqual({
      home: "/home/me/.actvm",
      backend: "auto",
      maxParallelJobs: 6,
      logLevel: "info",
      stepLogMaxBytes: 64 * 1024 * 1024,
      killGrace: { interrupt: 7500, terminate: 2500 },
      databaseUrl: undefined,
      actionsUrl: "https://github.com",
      actionsDir: undefined,
      qemuWarmPool: 0,
      qemuSnapshots: false,
      noColor: false,
      ci: false,
    });
  });

  it("reads the QEMU warm-pool size and snapshot switch, and rejects bad values with hints", () => {
    const on = loadConfig({ ACTVM_QEMU_WARM_POOL: "3", ACTVM_QEMU_SNAPSHOTS: "TRUE" }, system);
    expect(on.value).toMatchObject({ qemuWarmPool: 3, qemuSnapshots: true });
    const off = loadConfig({ ACTVM_QEMU_WARM_POOL: "0", ACTVM_QEMU_SNAPSHOTS: "0" }, system);
    expect(off.value).toMatchObject({ qemuWarmPool: 0, qemuSnapshots: false });
    const bad = loadConfig({ ACTVM_QEMU_WARM_POOL: "-1", ACTVM_QEMU_SNAPSHOTS: "yes" }, system);
    expect(bad.value).toBeUndefined();
    expect(bad.diagnostics.map((d) => d.field).sort()).toEqual([
      "ACTVM_QEMU_SNAPSHOTS",
      "ACTVM_QEMU_WARM_POOL",
    ]);
    for (const d of bad.diagnostics) expect(d.hint).toMatch(/ACTVM_QEMU|true/);
    expect(loadConfig({ ACTVM_QEMU_WARM_POOL: "65" }, system).value).toBeUndefined();
  });

  it("reports every bad value at once, each with its variable name and a hint", () => {
    const { value, diagnostics } = loadConfig(
      {
        ACTVM_HOME: "relative/dir",
        ACTVM_BACKEND: "docker",
        ACTVM_MAX_PARALLEL_JOBS: "0",
        ACTVM_LOG_LEVEL: "verbose",
        ACTVM_STEP_LOG_MAX_BYTES: "-5",
        ACTVM_DATABASE_URL: "mysql://db/actvm",
        ACTVM_ACTIONS_URL: "not a url",
        ACTVM_ACTIONS_DIR: "actions",
      },
      system,
    );
    expect(value).toBeUndefined();
    const errors = diagnostics.filter((d) => d.severity === "error");
    expect(errors.map((d) => d.field).sort()).toEqual([
      "ACTVM_ACTIONS_DIR",
      "ACTVM_ACTIONS_URL",
      "ACTVM_BACKEND",
      "ACTVM_DATABASE_URL",
      "ACTVM_HOME",
      "ACTVM_LOG_LEVEL",
      "ACTVM_MAX_PARALLEL_JOBS",
      "ACTVM_STEP_LOG_MAX_BYTES",
    ]);
    for (const d of errors) expect(d.hint, d.field).toBeTruthy();
    expect(errors.find((d) => d.field === "ACTVM_BACKEND")?.message).toContain("docker");
    expect(formatDiagnostic(errors[0]!)).toContain(errors[0]!.field);
  });

  it("parses explicit values, units and home expansion", () => {
    const { value } = loadConfig(
      {
        ACTVM_HOME: "~/state/",
        ACTVM_BACKEND: "bwrap",
        ACTVM_MAX_PARALLEL_JOBS: "12",
        ACTVM_LOG_LEVEL: "debug",
        ACTVM_STEP_LOG_MAX_BYTES: "512KiB",
        ACTVM_DATABASE_URL: "sqlite:/var/lib/actvm.db",
        ACTVM_ACTIONS_URL: "https://git.example.test/mirror/",
        ACTVM_ACTIONS_DIR: "/srv/actions",
        NO_COLOR: "0",
        CI: "true",
      },
      system,
    );
    expect(value).toMatchObject({
      home: "/home/me/state",
      backend: "bwrap",
      maxParallelJobs: 12,
      logLevel: "debug",
      stepLogMaxBytes: 512 * 1024,
      databaseUrl: "sqlite:/var/lib/actvm.db",
      actionsUrl: "https://git.example.test/mirror",
      actionsDir: "/srv/actions",
      noColor: true,
      ci: true,
    });
  });

  it("treats blank values as unset and CI=false as false", () => {
    const { value } = loadConfig({ ACTVM_BACKEND: "  ", CI: "false", NO_COLOR: "" }, system);
    expect(value).toMatchObject({ backend: "auto", ci: false, noColor: false });
  });

  it("distinguishes binary and decimal size units", () => {
    expect(loadConfig({ ACTVM_STEP_LOG_MAX_BYTES: "2M" }, system).value?.stepLogMaxBytes).toBe(
      2 * 1024 * 1024,
    );
    expect(loadConfig({ ACTVM_STEP_LOG_MAX_BYTES: "2MB" }, system).value?.stepLogMaxBytes).toBe(
      2_000_000,
    );
    expect(loadConfig({ ACTVM_STEP_LOG_MAX_BYTES: "1000" }, system).value?.stepLogMaxBytes).toBe(
      1000,
    );
  });

  it("accepts a postgres URL, which the store later refuses with its own message", () => {
    const { value } = loadConfig({ ACTVM_DATABASE_URL: "postgres://u:p@db:5432/actvm" }, system);
    expect(value?.databaseUrl).toBe("postgres://u:p@db:5432/actvm");
  });

  it("warns about a misspelt setting without failing", () => {
    const { value, diagnostics } = loadConfig(
      { ACTVM_BAKEND: "qemu", ACTVM_UNRELATED_FLAG: "1" },
      system,
    );
    expect(value?.backend).toBe("auto");
    expect(diagnostics).toEqual([
      expect.objectContaining({
        severity: "warning",
        field: "ACTVM_BAKEND",
        hint: "did you mean ACTVM_BACKEND?",
      }),
    ]);
  });

  it("derives the SIGTERM grace from ACTVM_KILL_GRACE_MS and rejects non-numbers", () => {
    expect(loadConfig({ ACTVM_KILL_GRACE_MS: "900" }, system).value?.killGrace).toEqual({
      interrupt: 900,
      terminate: 300,
    });
    const bad = loadConfig({ ACTVM_KILL_GRACE_MS: "soon" }, system);
    expect(bad.value).toBeUndefined();
    expect(bad.diagnostics.map((d) => d.field)).toContain("ACTVM_KILL_GRACE_MS");
  });
});
