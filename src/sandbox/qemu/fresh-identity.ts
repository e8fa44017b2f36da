import { randomBytes } from "node:crypto";
import type { AgentClient } from "../../guest/index.ts";
import { ActvmError } from "../../shared/errors.ts";

/** The identity a restored VM is given so that no two clones of one snapshot share it. */
export interface GuestIdentity {
  hostname: string;
  /** 32 lowercase hex digits, the format of /etc/machine-id. */
  machineId: string;
  /** Host randomness mixed into the guest kernel's pool before it is reseeded. */
  seed: Buffer;
  /** Host wall clock (ms since the epoch): a restored guest's clock stood still since the snapshot. */
  nowMs: number;
}

/** Makes a new identity: hostname `actvm-<8 hex>`, a random machine-id and a 64-byte seed. */
export function newGuestIdentity(): GuestIdentity {
  return {
    hostname: `actvm-${randomBytes(4).toString("hex")}`,
    machineId: randomBytes(16).toString("hex"),
    seed: randomBytes(64),
    nowMs: Date.now(),
  };
}

// Runs as root in the guest. RNDADDENTROPY (0x40085203) mixes the seed in and credits it;
// RNDRESEEDCRNG (0x5207) then makes the kernel's CRNG rekey from the pool at once, instead of
// within the next minute, so clones diverge before anything reads /dev/urandom. The kernel's
// boot_id cannot be changed: it is kernel memory and stays equal across clones.
const SCRIPT = `set -eu
h="$1"
echo "$h" >/proc/sys/kernel/hostname
echo "$h" >/etc/hostname
printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\t%s\\n::1\\t\\tlocalhost ip6-localhost ip6-loopback\\n' "$h" >/etc/hosts
echo "$2" >/etc/machine-id
date -u -s "@$3" >/dev/null
perl -e '
  open(my $u, ">", "/dev/urandom") or die "open /dev/urandom: $!\\n";
  my $seed = pack("H*", $ARGV[0]);
  ioctl($u, 0x40085203, pack("i i", 8 * length($seed), length($seed)) . $seed)
    or die "RNDADDENTROPY: $!\\n";
  ioctl($u, 0x5207, 0) or die "RNDRESEEDCRNG: $!\\n";
' "$4"
`;

/**
 * Writes `identity` into a just-restored guest through its agent: hostname (kernel,
 * /etc/hostname, /etc/hosts), /etc/machine-id, the wall clock, and fresh kernel entropy.
 * Rejects with VM_ALLOCATION when the guest refuses, as a clone that kept its template's
 * identity must not run a job.
 */
export async function applyGuestIdentity(
  agent: AgentClient,
  identity: GuestIdentity,
  subsystem: string,
): Promise<void> {
  const out: Buffer[] = [];
  const seconds = (identity.nowMs / 1000).toFixed(3);
  const result = await agent.exec(
    {
      argv: [
        "sh",
        "-c",
        SCRIPT,
        "actvm-identity",
        identity.hostname,
        identity.machineId,
        seconds,
        identity.seed.toString("hex"),
      ],
      cwd: "/",
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
      timeoutMs: 30_000,
    },
    { onStdout: (c) => out.push(c), onStderr: (c) => out.push(c) },
  ).result;
  if (result.exitCode !== 0) {
    const text = Buffer.concat(out).toString("utf8").trim().slice(-500);
    throw new ActvmError(
      "VM_ALLOCATION",
      `could not give the restored VM a fresh identity (exit ${result.exitCode ?? result.signal}): ${text}`,
      { subsystem },
    );
  }
}
