import { ActvmError } from "../shared/errors.ts";

const LABEL = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Checks a {@link VmSpec} label before it becomes part of a path or process name: 1–64 ASCII
 * letters, digits or `-`, so `../x`, NUL bytes or unicode can never escape the VM directory.
 */
export function assertVmLabel(label: unknown, subsystem: string): string {
  if (typeof label !== "string" || !LABEL.test(label)) {
    const shown = typeof label === "string" ? JSON.stringify(label.slice(0, 80)) : typeof label;
    throw new ActvmError("VM_ALLOCATION", `invalid sandbox label ${shown}`, {
      subsystem,
      hint: "A label is 1 to 64 characters of A-Z, a-z, 0-9 and '-'.",
    });
  }
  return label;
}
