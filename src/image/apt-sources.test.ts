import { describe, expect, it } from "vitest";
import { parseDeb822Sources, parseOneLineSources } from "./apt-sources.ts";

// Mirror addresses in these tests are placeholders on reserved example domains.
const MAIN = "http://mirror.example/debian";
const SEC = "http://mirror.example/debian-security";

describe("parseDeb822Sources", () => {
  it("reads every paragraph with its URIs, suites, components and keyring", () => {
    const text = [
      "# the main archive",
      "Types: deb deb-src",
      `URIs: ${MAIN}`,
      "Suites: bookworm bookworm-updates",
      "Components: main contrib",
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
      "",
      "Types: deb",
      `URIs: ${SEC}`,
      "Suites: bookworm-security",
      "Components: main",
      "",
    ].join("\n");
    const sources = parseDeb822Sources(text, "debian.sources");
    expect(sources).toEqual([
      {
        type: "deb",
        uri: MAIN,
        suites: ["bookworm", "bookworm-updates"],
        components: ["main", "contrib"],
        signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
        origin: "debian.sources:2",
      },
      {
        type: "deb-src",
        uri: MAIN,
        suites: ["bookworm", "bookworm-updates"],
        components: ["main", "contrib"],
        signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
        origin: "debian.sources:2",
      },
      {
        type: "deb",
        uri: SEC,
        suites: ["bookworm-security"],
        components: ["main"],
        origin: "debian.sources:8",
      },
    ]);
  });

  it("treats field names case-insensitively and skips disabled paragraphs", () => {
    const text = `types: deb\nuris: ${SEC}\nsuites: x\nenabled: no\n\nTYPES: deb\nURIS: ${MAIN}\nSUITES: bookworm\n`;
    expect(parseDeb822Sources(text, "f").map((s) => s.uri)).toEqual([MAIN]);
  });

  it("ignores an embedded key block in Signed-By and reads multi-line values", () => {
    const text = [
      "Types: deb",
      "URIs:",
      ` ${MAIN}`,
      "Suites: bookworm",
      "Signed-By:",
      " -----BEGIN PGP PUBLIC KEY BLOCK-----",
      " .",
      " abc",
      " -----END PGP PUBLIC KEY BLOCK-----",
    ].join("\n");
    const [s] = parseDeb822Sources(text, "f");
    expect(s?.uri).toBe(MAIN);
    expect(s?.signedBy).toBeUndefined();
  });
});

describe("parseOneLineSources", () => {
  it("reads deb lines with bracketed options, skipping comments and deb-src when asked for deb", () => {
    const text = [
      "# deb http://old.example/debian buster main",
      `deb [arch=amd64 signed-by=/etc/apt/keyrings/debian.gpg] ${MAIN} bookworm main non-free`,
      `deb-src ${MAIN} bookworm main`,
      `deb ${SEC} bookworm-security main # security`,
      "",
    ].join("\n");
    const sources = parseOneLineSources(text, "sources.list");
    expect(sources).toEqual([
      {
        type: "deb",
        uri: MAIN,
        suites: ["bookworm"],
        components: ["main", "non-free"],
        signedBy: "/etc/apt/keyrings/debian.gpg",
        origin: "sources.list:2",
      },
      {
        type: "deb-src",
        uri: MAIN,
        suites: ["bookworm"],
        components: ["main"],
        origin: "sources.list:3",
      },
      {
        type: "deb",
        uri: SEC,
        suites: ["bookworm-security"],
        components: ["main"],
        origin: "sources.list:4",
      },
    ]);
  });

  it("skips lines without a suite and lines marked enabled=no", () => {
    const text = `deb ${MAIN}\ndeb [enabled=no] ${SEC} bookworm main\n`;
    expect(parseOneLineSources(text, "f")).toEqual([]);
  });
});
