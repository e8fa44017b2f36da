/**
 * The forms a secret takes in a log besides its plain value. GitHub's runner registers the
 * value, each of its lines, and the output of its value encoders (base64 at three byte
 * offsets, command-line, expression, JSON, URI and XML escapes, quote trimming, PowerShell
 * ampersand sections; see `ValueEncoders.cs` and `HostContext.cs` in actions/runner). We add
 * what leaked past those encoders in practice: base64 as it appears inside a longer base64
 * stream, base64 of base64 (the 2025 tj-actions compromise), base64url and hex.
 */

/** Base64 forms shorter than this would match ordinary words; they carry < 3 bytes anyway. */
const MIN_BASE64_FORM = 4;

/** Every string that must be masked for the secret `value`; empty when nothing should be. */
export function deriveSecretForms(value: string): string[] {
  const out = new Set<string>();
  if (value.trim() === "") return [];
  const bases = new Set<string>([value]);
  const trimmed = value.trim();
  if (trimmed !== value) bases.add(trimmed);
  // GitHub registers each line of a multi-line secret: a PEM key is never printed on one line.
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r\n|\r|\n/)) {
      if (line.trim() !== "") {
        bases.add(line);
        bases.add(line.trim());
      }
    }
  }
  for (const base of bases) {
    out.add(base);
    for (const form of encodeForms(base)) if (form !== "") out.add(form);
  }
  return [...out];
}

function encodeForms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const forms: string[] = [];
  for (const shift of [0, 1, 2]) {
    // GitHub's own form: plain base64 of the value with `shift` leading bytes dropped.
    const shifted = bytes.length > shift ? bytes.subarray(shift) : bytes;
    forms.push(shifted.toString("base64"));
    const stable = stableBase64(shifted);
    if (stable.length >= MIN_BASE64_FORM) {
      forms.push(stable, toBase64Url(stable));
      // Base64 of base64: the inner stable text sits at any offset of the outer stream.
      const inner = Buffer.from(stable, "latin1");
      for (const outer of [0, 1, 2]) {
        const s = stableBase64(inner.subarray(Math.min(outer, inner.length)));
        if (s.length >= MIN_BASE64_FORM) forms.push(s, toBase64Url(s));
      }
    }
  }
  forms.push(Buffer.from(bytes.toString("base64"), "latin1").toString("base64"));
  const hex = bytes.toString("hex");
  if (hex.length >= MIN_BASE64_FORM) forms.push(hex, hex.toUpperCase());

  const component = encodeURIComponent(value);
  forms.push(component);
  // Uri.EscapeDataString (RFC 3986) also escapes !'()*; form encoding writes a space as `+`.
  forms.push(
    component.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
  );
  forms.push(component.replace(/%20/g, "+"));

  const json = JSON.stringify(value).slice(1, -1);
  forms.push(json);
  // Newtonsoft (GitHub's runner) also escapes NEL and the line/paragraph separators; Python's
  // json.dumps escapes every non-ASCII character.
  forms.push(json.replace(/[\u0085\u2028\u2029]/g, unicodeEscape));
  forms.push(json.replace(/[^ -~]/g, unicodeEscape));

  forms.push(xmlEscape(value, "&apos;"), xmlEscape(value, "&#39;"), xmlEscape(value, "&#x27;"));

  // CommandLineArgumentEscape, ExpressionStringEscape, and POSIX single-quote escaping as
  // printed by `set -x`.
  forms.push(value.replace(/"/g, '\\"'), value.replace(/'/g, "''"), value.replace(/'/g, "'\\''"));

  if (value.length > 8 && value.startsWith('"') && value.endsWith('"'))
    forms.push(value.slice(1, -1));
  forms.push(...powerShellAmpersandSections(value));
  return forms;
}

/**
 * Base64 of `bytes` cut to the characters that do not depend on the bytes that follow, so it
 * matches wherever those bytes appear at a 3-byte boundary inside a longer encoded stream.
 */
export function stableBase64(bytes: Uint8Array): string {
  const full = Buffer.from(bytes).toString("base64").replace(/=+$/, "");
  // A final group of 1 or 2 bytes ends in a character that shares bits with the next byte.
  return bytes.length % 3 === 0 ? full : full.slice(0, -1);
}

function toBase64Url(b64: string): string {
  return b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unicodeEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

function xmlEscape(value: string, apos: string): string {
  return value.replace(/[<>"'&]/g, (c) =>
    c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : c === "&" ? "&amp;" : apos,
  );
}

/**
 * PowerShell colours the character after `&+`, splitting a secret around it; GitHub registers
 * the section before and after (when at least 6 characters) so each half is still masked.
 */
function powerShellAmpersandSections(value: string): string[] {
  const amp = value.lastIndexOf("&");
  if (amp < 0) return [];
  const plus = value.indexOf("&+");
  const pre = plus >= 0 ? value.slice(0, plus + 2) : value.slice(0, amp + 1);
  let post: string;
  if (plus >= 0) {
    const after = value.slice(plus + 2);
    const first = after.codePointAt(0);
    post = first === undefined ? "" : after.slice(first > 0xffff ? 2 : 1);
  } else {
    post = value.slice(amp + 1);
  }
  return [pre, post].filter((s) => s.length >= 6);
}
