// bench/step-overhead: per-step cost of actvm's job runner for `run: true` steps, on each
// sandbox backend available here, next to the cost of spawning `bash -c true` from Node.
// Run: npx tsx bench/step-overhead.ts [steps]
import { spawn, execFileSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createProvider, createSessionManager } from "../src/sandbox/index.ts";
import {
  createActionResolver,
  prepareLocalRun,
  executeLocalRun,
  type RunEvent,
} from "../src/run/index.ts";

const STEPS = Number(process.argv[2] ?? 200);

async function rawSpawn(n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => {
      const c = spawn("bash", ["-c", "true"], { stdio: "ignore" });
      c.on("error", reject);
      c.on("close", () => resolve());
    });
  }
  return (performance.now() - t) / n;
}

async function makeRepo(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "actvm-bench-"));
  await mkdir(path.join(dir, ".github/workflows"), { recursive: true });
  const steps = Array.from({ length: STEPS }, () => '      - run: "true"').join("\n");
  await writeFile(
    path.join(dir, ".github/workflows/bench.yml"),
    `on: push\njobs:\n  bench:\n    runs-on: x\n    steps:\n${steps}\n`,
  );
  execFileSync("git", ["init", "-q", "-b", "main"], { cwd: dir });
  execFileSync("git", ["-c", "user.name=b", "-c", "user.email=b@b.invalid", "add", "-A"], {
    cwd: dir,
  });
  execFileSync(
    "git",
    ["-c", "user.name=b", "-c", "user.email=b@b.invalid", "commit", "-qm", "bench"],
    { cwd: dir },
  );
  return dir;
}

async function runOn(
  backend: "host" | "bwrap",
  repo: string,
  base: string,
): Promise<{ perStep: number; job: number }> {
  const provider = createProvider(backend, { baseDir: base });
  const probe = await provider.probe();
  if (!probe.available) throw new Error(`${backend}: ${probe.detail}`);
  const sessions = createSessionManager({ provider, maxConcurrent: 1 });
  const prepared = await prepareLocalRun({ repoDir: repo, eventName: "push", inputs: {} });
  if (!prepared.value) throw new Error(JSON.stringify(prepared.diagnostics));
  let first = 0;
  let last = 0;
  let jobStart = 0;
  let jobEnd = 0;
  const emit = (e: RunEvent) => {
    if (e.type === "step.started" && first === 0) first = performance.now();
    if (e.type === "step.completed") last = performance.now();
    if (e.type === "job.queued") jobStart = performance.now();
    if (e.type === "job.completed") jobEnd = performance.now();
  };
  const out = await executeLocalRun(prepared.value, {
    deps: {
      sessions,
      actions: createActionResolver({
        cacheDir: path.join(base, "actions"),
        baseUrl: "file:///nonexistent",
      }),
      emit,
    },
    allocateRun: async () => ({ runId: `bench-${backend}`, runNumber: 1 }),
    secrets: {},
    vars: {},
    env: {},
    network: false,
    maxParallel: 1,
    backend,
    signal: new AbortController().signal,
  });
  await sessions.stop();
  if (out.result !== "success") throw new Error(`${backend}: run ${out.result}`);
  return { perStep: (last - first) / STEPS, job: jobEnd - jobStart };
}

const repo = await makeRepo();
const base = await mkdtemp(path.join(os.tmpdir(), "actvm-bench-sbx-"));
try {
  // Warm up the file cache and the JIT once.
  await rawSpawn(20);
  const raw = await rawSpawn(STEPS);
  console.log(
    `bench/step-overhead: ${STEPS} steps of \`run: true\`, ${os.cpus().length} CPUs, Node ${process.version}`,
  );
  console.log(`  raw spawn of bash -c true from Node: ${raw.toFixed(2)} ms per command`);
  for (const backend of ["host", "bwrap"] as const) {
    try {
      await runOn(backend, repo, base); // warm-up run
      const r = await runOn(backend, repo, base);
      console.log(
        `  ${backend.padEnd(5)}: ${r.perStep.toFixed(2)} ms per step (${(r.perStep - raw).toFixed(2)} ms above raw spawn); whole job incl. sandbox ${r.job.toFixed(0)} ms`,
      );
    } catch (err) {
      console.log(
        `  ${backend.padEnd(5)}: skipped (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
} finally {
  await rm(repo, { recursive: true, force: true });
  await rm(base, { recursive: true, force: true });
}
