import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deriveSecretForms, stableBase64 } from "./mask-encodings.ts";
import { createSecretMasker } from "./secret-masker.ts";

const maskerWith = (...secrets: string[]) => {
  const m = createSecretMasker();
  for (const s of secrets) m.add(s);
  return m;
};

const streamAll = (secrets: string[], chunks: string[]): string => {
  const s = maskerWith(...secrets).createStream();
  return chunks.map((c) => s.write(c)).join("") + s.flush();
};

describe("createSecretMasker", () => {
  it("masks a registered value wherever it appears", () => {
    expect(maskerWith("hunter2").mask("pw=hunter2; again hunter2")).toBe("pw=***; again ***");
  });

  it("ignores empty and whitespace-only values but masks one-character secrets", () => {
    const m = maskerWith("", "  \n\t", "x");
    expect(m.size).toBeGreaterThan(0);
    expect(m.mask("a x b")).toBe("a *** b");
    expect(maskerWith("", "   ").size).toBe(0);
  });

  it("covers overlapping secrets fully with one mask", () => {
    const m = maskerWith("abc", "bcd");
    expect(m.mask("xabcdy")).toBe("x***y");
    expect(m.mask("abcabc")).toBe("***");
  });

  it("prefers the longest secret when one contains another", () => {
    expect(maskerWith("abcdef", "abc").mask("1abcdefg")).toBe("1***g");
  });

  it("masks each line of a multi-line secret on its own", () => {
    const key = "-----BEGIN KEY-----\nline-one-AAAA\r\nline-two-BBBB\n-----END KEY-----";
    const m = maskerWith(key);
    expect(m.mask("got line-two-BBBB here")).toBe("got *** here");
    expect(m.mask(key)).toBe("***");
  });

  it("masks a secret wrapped in ANSI colour codes", () => {
    expect(maskerWith("s3cr3t-v4lue").mask("\x1b[31ms3cr3t-v4lue\x1b[0m")).toBe(
      "\x1b[31m***\x1b[0m",
    );
  });

  it("masks base64 of the secret at every byte offset inside a longer encoding", () => {
    const secret = "correct-horse-battery";
    const m = maskerWith(secret);
    for (const prefix of ["", "u:", "us:", "user:", "x"]) {
      const b64 = Buffer.from(`${prefix}${secret}@host`).toString("base64");
      const out = m.mask(b64);
      expect(out, prefix).toContain("***");
      // What is left must not decode back to a recognisable part of the secret.
      expect(Buffer.from(out.replace("***", ""), "base64").toString("latin1")).not.toContain(
        "horse",
      );
    }
  });

  it("masks base64 of base64, hex, URL, JSON, XML and shell-escaped forms", () => {
    const secret = `p@ss "w'rd" & <co/de>+é`;
    const m = maskerWith(secret);
    const forms = [
      Buffer.from(Buffer.from(secret).toString("base64")).toString("base64"),
      Buffer.from(secret).toString("hex"),
      encodeURIComponent(secret),
      JSON.stringify(secret).slice(1, -1),
      secret
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/"/g, "&quot;")
        .replace(/'/g, "&apos;"),
      secret.replace(/"/g, '\\"'),
      secret.replace(/'/g, "'\\''"),
    ];
    for (const f of forms) expect(m.mask(`[${f}]`), f).toBe("[***]");
  });

  it("stableBase64 drops exactly the characters that depend on following bytes", () => {
    expect(stableBase64(Buffer.from("abc"))).toBe("YWJj");
    expect(stableBase64(Buffer.from("ab"))).toBe("YW");
    expect(stableBase64(Buffer.from("a"))).toBe("Y");
  });

  it("masks a secret registered after the stream started", () => {
    const m = createSecretMasker();
    const s = m.createStream();
    const first = s.write("before ");
    m.add("token-123456");
    const out = first + s.write("x token-12") + s.write("3456 after") + s.flush();
    expect(out).toBe("before x *** after");
  });

  it("masks a secret split across two and three writes", () => {
    expect(streamAll(["supersecret"], ["a super", "secret b"])).toBe("a *** b");
    expect(streamAll(["supersecret"], ["a sup", "erse", "cret b"])).toBe("a *** b");
  });

  it("releases text that cannot start a secret immediately", () => {
    const s = maskerWith("supersecret").createStream();
    expect(s.write("hello world ")).toBe("hello world ");
    expect(s.write("xx sup")).toBe("xx ");
    expect(s.write("ers")).toBe("");
    expect(s.write("!")).toBe("supers!");
    expect(s.flush()).toBe("");
  });

  it("streams exactly what mask() gives for the whole text, for any chunking", () => {
    const alphabet = fc.constantFrom(..."abcxyz01+/=\n ".split(""));
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: alphabet, minLength: 1, maxLength: 8 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.string({ unit: alphabet, maxLength: 120 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (secrets, text, cuts) => {
          const whole = maskerWith(...secrets).mask(text);
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let prev = 0;
          for (const p of points) {
            chunks.push(text.slice(prev, p));
            prev = p;
          }
          chunks.push(text.slice(prev));
          expect(streamAll(secrets, chunks)).toBe(whole);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("never lets a secret or a derived form through, however the output is chunked", () => {
    const secretChar = fc.constantFrom(..."abcdefghXYZ0123456789-_:@%&\"'<>/ ".split(""));
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: secretChar, minLength: 3, maxLength: 16 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        (secrets, fillers, sizes, pick) => {
          const forms = secrets.flatMap(deriveSecretForms).filter((f) => !f.includes("*"));
          fc.pre(forms.length > 0);
          // Plant secrets and their forms between random filler text.
          let text = "";
          fillers.forEach((f, i) => (text += f + forms[(pick + i * 7) % forms.length]!));
          const chunks: string[] = [];
          for (let pos = 0, i = 0; pos < text.length; i++) {
            const n = sizes[i % sizes.length]!;
            chunks.push(text.slice(pos, pos + n));
            pos += n;
          }
          const out = streamAll(secrets, chunks);
          for (const f of forms) expect(out.includes(f), `leaked ${JSON.stringify(f)}`).toBe(false);
          expect(maskerWith(...secrets).mask(text)).toBe(out);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("passes text that holds no secret through unchanged", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 }),
        fc.string({ maxLength: 200 }),
        (secrets, text) => {
          const m = maskerWith(...secrets);
          const forms = secrets.flatMap(deriveSecretForms);
          fc.pre(!forms.some((f) => text.includes(f)));
          expect(m.mask(text)).toBe(text);
          const s = m.createStream();
          expect(s.write(text.slice(0, 5)) + s.write(text.slice(5)) + s.flush()).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});
