/**
 * Secret masking throughput: `npx tsx bench/masking.ts [MB]`. Builds a realistic log (64 MB by
 * default) with 50 secrets and their encoded forms planted in it, then times the masker
 * (`mask()` and the stream API with random chunk sizes) against the alternatives considered:
 * a RegExp alternation, one `indexOf` scan per pattern, and modern-ahocorasick. Verifies that
 * no secret or derived form survives. Prints figures; asserts nothing about speed.
 */
import { randomBytes } from "node:crypto";
import AhoCorasick from "modern-ahocorasick";
import { deriveSecretForms } from "../src/run/mask-encodings.ts";
import { createSecretMasker } from "../src/run/secret-masker.ts";

const MB = Number(process.argv[2] ?? 64);
const SECRETS = 50;

let seed = 42;
const rand = (n: number): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};

const secrets = Array.from({ length: SECRETS }, (_, i) =>
  i % 3 === 0
    ? `ghp_${randomBytes(18).toString("base64url")}`
    : randomBytes(8 + (i % 24)).toString("hex"),
);
const masker = createSecretMasker();
for (const s of secrets) masker.add(s);
const forms = [...new Set(secrets.flatMap(deriveSecretForms))];

const templates = [
  () =>
    `2024-05-01T12:${rand(60)}:${rand(60)}.${rand(999)}Z npm info run build@${rand(9)}.${rand(20)}.0 install`,
  () => `\x1b[32m✓\x1b[0m src/module-${rand(500)}.test.ts (${rand(40)} tests) ${rand(900)}ms`,
  () =>
    `   Compiling serde v1.0.${rand(200)} (registry cache) warning: unused variable \`x${rand(99)}\``,
  () => `GET /api/v1/items/${rand(1e6)}?page=${rand(50)} 200 ${rand(3000)}b in ${rand(90)}ms`,
  () =>
    `  at Object.<anonymous> (/home/runner/work/app/src/lib/file${rand(80)}.js:${rand(400)}:${rand(80)})`,
  () => `{"level":"info","msg":"cache restored","key":"node-${rand(1e5).toString(16)}","hit":true}`,
];
const parts: string[] = [];
let size = 0;
let planted = 0;
while (size < MB * 1024 * 1024) {
  let line = templates[rand(templates.length)]!();
  if (rand(50) === 0) {
    line += ` token=${forms[rand(forms.length)]!}`;
    planted++;
  }
  line += "\n";
  parts.push(line);
  size += line.length;
}
const text = parts.join("");
const mb = text.length / (1024 * 1024);

const time = (label: string, fn: () => unknown, scale = 1): number => {
  const t0 = performance.now();
  fn();
  const s = (performance.now() - t0) / 1000;
  const rate = (mb * scale) / s;
  console.log(
    `${label.padEnd(44)} ${(rate < 10 ? rate.toFixed(2) : rate.toFixed(0)).padStart(6)} MB/s`,
  );
  return rate;
};

console.log(
  `log: ${mb.toFixed(1)} MB, ${SECRETS} secrets, ${forms.length} masked forms, ${planted} planted\n`,
);

const t0 = performance.now();
masker.mask("warm-up builds the automaton");
console.log(`automaton build: ${(performance.now() - t0).toFixed(0)} ms\n`);

let masked = "";
time("chosen: dense automaton, mask()", () => (masked = masker.mask(text)));
let streamed = "";
time("chosen: dense automaton, stream (1 B–64 KiB)", () => {
  const s = masker.createStream();
  const out: string[] = [];
  for (let pos = 0; pos < text.length;) {
    const n = 1 + rand(65536);
    out.push(s.write(text.slice(pos, pos + n)));
    pos += n;
  }
  out.push(s.flush());
  streamed = out.join("");
});

// The alternatives run on a slice so the run stays short; their rate is what matters.
const sample = text.slice(0, Math.min(text.length, 4 * 1024 * 1024));
const share = sample.length / text.length;
const sorted = [...forms].sort((a, b) => b.length - a.length);
const escaped = sorted.map((f) => f.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
const re = new RegExp(escaped.join("|"), "g");
time("alternative: RegExp alternation", () => sample.replace(re, "***"), share);
time(
  "alternative: indexOf per pattern",
  () => {
    let hits = 0;
    for (const f of sorted)
      for (let i = sample.indexOf(f); i >= 0; i = sample.indexOf(f, i + 1)) hits++;
    return hits;
  },
  share,
);
// modern-ahocorasick segments graphemes and allocates match objects: give it 64 KiB.
const small = sample.slice(0, 64 * 1024);
const aho = new AhoCorasick(sorted);
time("alternative: modern-ahocorasick count()", () => aho.count(small), small.length / text.length);

const leaks = forms.filter((f) => !f.includes("*") && (masked.includes(f) || streamed.includes(f)));
console.log(`\nstream output identical to mask(): ${streamed === masked}`);
console.log(
  `leaked forms: ${leaks.length}${leaks.length ? ` (${leaks.slice(0, 3).join(", ")})` : ""}`,
);
if (leaks.length > 0 || streamed !== masked) process.exitCode = 1;
