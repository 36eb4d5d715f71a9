import { hash, parseOptions, verify } from '@node-rs/argon2';

/**
 * argon2id with OWASP's recommended floor (19 MiB, 2 passes, 1 lane). Tests and
 * benchmarks may lower the cost through PLURA_ARGON2_MEMORY_KIB; the hash records its
 * own parameters, so verification never depends on the current ones.
 */
const memoryCost = Number(process.env.PLURA_ARGON2_MEMORY_KIB ?? 19_456);
const timeCost = 2;
const parallelism = 1;
// Algorithm.Argon2id is a const enum in an ambient declaration; 2 is its value.
const ARGON2ID = 2;

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
    return options.algorithm !== ARGON2ID || options.memoryCost !== memoryCost || options.timeCost !== timeCost || options.parallelism !== parallelism;
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
