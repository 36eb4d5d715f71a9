import { main } from '../main.js';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs the real CLI in-process against a real data directory, capturing its output. */
export async function runCli(dataDir: string, ...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'plura', '--data-dir', dataDir, ...args], { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
