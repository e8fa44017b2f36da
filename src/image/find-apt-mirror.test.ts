import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isActvmError } from "../shared/errors.ts";
import type { AptSource } from "./apt-sources.ts";
import { findAptMirror, pickAptMirror, readAptSources } from "./find-apt-mirror.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function aptDir(files: Record<string, string>): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "actvm-apt-"));
  dirs.push(d);
  mkdirSync(path.join(d, "sources.list.d"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text);
  return d;
}

function src(uri: string, suites: string[], type: AptSource["type"] = "deb"): AptSource {
  return { type, uri, suites, components: ["main"], origin: "t" };
}

describe("pickAptMirror", () => {
  it("prefers the source that lists the exact suite over earlier ones", () => {
    const m = pickAptMirror(
      [src("http://a.example/x", ["trixie"]), src("http://b.example/debian", ["bookworm"])],
      "bookworm",
    );
    expect(m?.uri).toBe("http://b.example/debian");
  });

  it("never picks security, updates or backports suites nor deb-src", () => {
    const m = pickAptMirror(
      [
        src("http://sec.example/debian-security", ["bookworm-security"]),
        src("http://upd.example/debian", ["bookworm-updates"]),
        src("http://bp.example/debian", ["bookworm-backports"]),
        src("http://srcs.example/debian", ["bookworm"], "deb-src"),
        src("http://main.example/debian", ["stable"]),
      ],
      "bookworm",
    );
    expect(m?.uri).toBe("http://main.example/debian");
  });

  it("skips URIs debootstrap cannot fetch from and returns nothing when none is left", () => {
    expect(pickAptMirror([src("cdrom:[Debian]/", ["bookworm"])], "bookworm")).toBeUndefined();
    expect(pickAptMirror([src("file:///srv/debian", ["bookworm"])], "bookworm")?.uri).toBe(
      "file:///srv/debian",
    );
  });
});

describe("findAptMirror", () => {
  it("reads sources.list.d .sources files with signed-by, ignoring other file kinds", async () => {
    const d = aptDir({
      "sources.list.d/other.list.disabled": "deb http://off.example/debian bookworm main\n",
      "sources.list.d/debian.sources": [
        "Types: deb",
        "URIs: http://sec.example/debian-security",
        "Suites: bookworm-security",
        "",
        "Types: deb",
        "URIs: http://main.example/debian",
        "Suites: bookworm bookworm-updates",
        "Components: main",
        "Signed-By: /usr/share/keyrings/k.gpg",
      ].join("\n"),
    });
    expect(await findAptMirror("bookworm", d)).toEqual({
      uri: "http://main.example/debian",
      signedBy: "/usr/share/keyrings/k.gpg",
      origin: path.join(d, "sources.list.d/debian.sources:5"),
    });
  });

  it("reads the one-line sources.list before sources.list.d", async () => {
    const d = aptDir({
      "sources.list": "deb [signed-by=/k.gpg] http://one.example/debian bookworm main\n",
      "sources.list.d/z.list": "deb http://two.example/debian bookworm main\n",
    });
    const all = await readAptSources(d);
    expect(all.map((s) => s.uri)).toEqual([
      "http://one.example/debian",
      "http://two.example/debian",
    ]);
    expect((await findAptMirror("bookworm", d)).signedBy).toBe("/k.gpg");
  });

  it("fails with IMAGE_BUILD and a hint when no usable source exists", async () => {
    const d = aptDir({ "sources.list": "deb http://sec.example/s bookworm-security main\n" });
    const err = await findAptMirror("bookworm", d).catch((e: unknown) => e);
    expect(isActvmError(err, "IMAGE_BUILD")).toBe(true);
    expect((err as { hint?: string }).hint).toMatch(/deb/);
  });
});
