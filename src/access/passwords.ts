import { hash, parseOptions, verify } from '@node-rs/argon2';

/**
 * argon2id with OWASP's recommended floor (19 MiB, 2 passes, 1 lane). Tests and
 * benchmarks may lower the cost through PLURA_ARGON2_MEMORY_KIB; the hash records its
 * own parameters, so verification never depends on the current ones.
 */
const memoryCost = memoryCostFrom(process.env.PLURA_ARGON2_MEMORY_KIB);
const timeCost = 2;
const parallelism = 1;
// Algorithm and Version are ambient const enums (the runtime exports are empty objects, and
// isolatedModules forbids inlining them), so their values are spelled out: Argon2id = 2, V0x13 = 1.
const ARGON2ID = 2;
const VERSION_0X13 = 1;

/** A mistyped override must not break every sign-in (NaN) or drop below argon2's own floor (8 KiB). */
function memoryCostFrom(value: string | undefined): number {
  const parsed = Number(value);
  return value !== undefined && Number.isInteger(parsed) && parsed >= 8 ? parsed : 19_456;
}

export function hashPassword(plain: string): Promise<string> {
  return hash(plain, { memoryCost, timeCost, parallelism, algorithm: ARGON2ID });
}

/** False for a wrong password or a malformed hash; never throws. */
export async function verifyPassword(hashed: string, plain: string): Promise<boolean> {
  try {
    return await verify(hashed, plain);
  } catch {
    return false;
  }
}

/** True when a stored hash was made with other parameters than today's (rehash on next sign-in). */
export function needsRehash(hashed: string): boolean {
  try {
    const options = parseOptions(hashed);
    return options.algorithm !== ARGON2ID || options.version !== VERSION_0X13 || options.memoryCost !== memoryCost || options.timeCost !== timeCost || options.parallelism !== parallelism;
  } catch {
    return true;
  }
}

let dummyHash: Promise<string> | undefined;

/** Spends the time of a real check, so an unknown login cannot be told from a wrong password by timing. */
export async function dummyVerify(plain: string): Promise<void> {
  dummyHash ??= hashPassword('plura-dummy-password');
  await verifyPassword(await dummyHash, plain);
}
