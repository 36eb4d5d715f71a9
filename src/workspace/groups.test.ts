import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/test-support/run-cli.js';

describe('group:create, group:list, group:delete', () => {
  let dataDir: string;
  const plura = (...args: string[]) => runCli(dataDir, ...args);

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'plura-cli-groups-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('has the two special groups, creates and deletes groups of each kind, refuses bad input', async () => {
    const initial = JSON.parse((await plura('group:list', '--format', 'json')).out) as { name: string; kind: string; special: boolean }[];
    expect(initial).toEqual([
      expect.objectContaining({ kind: 'internal', name: 'All internal users', special: true }),
      expect.objectContaining({ kind: 'tenant', name: 'All tenant users', special: true }),
    ]);
    const created = await plura('group:create', 'Editors', '--kind', 'tenant', '--description', 'People who curate');
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(/^Created tenant group \d+ "Editors"\.$/);
    expect((await plura('group:create', 'Editors', '--kind', 'internal')).code).toBe(0);
    const duplicate = await plura('group:create', 'Editors', '--kind', 'tenant');
    expect(duplicate.code).not.toBe(0);
    expect(duplicate.err).toContain('There is already a tenant group named "Editors"');
    expect((await plura('group:create', 'X', '--kind', 'everyone')).err).toContain('--kind must be tenant or internal');

    const listed = JSON.parse((await plura('group:list', '--format', 'json')).out) as { id: number; name: string; kind: string; special: boolean }[];
    const special = listed.find((group) => group.special);
    const editors = listed.find((group) => group.kind === 'tenant' && group.name === 'Editors');
    expect((await plura('group:delete', String(special?.id))).err).toContain('cannot be deleted');
    expect((await plura('group:delete', String(editors?.id))).code).toBe(0);
    expect((await plura('group:list')).out).not.toMatch(/tenant\s+Editors/);
  });
});
