// `npm run bench -- <name>`: runs one benchmark from bench/.
const benches: Record<string, () => Promise<void>> = {
  tenants: async () => (await import('./tenants.js')).runTenantsBench(),
  identity: async () => (await import('./identity.js')).runIdentityBench(),
  tracking: async () => (await import('./tracking.js')).runTrackingBench(),
  reports: async () => (await import('./reports.js')).runReportsBench(),
};

const name = process.argv[2] ?? 'tenants';
const bench = benches[name];
if (!bench) {
  console.error(`Unknown benchmark "${name}". Available: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
await bench();
