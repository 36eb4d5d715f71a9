import type { RegistryStore } from './registry.store.js';
import type { Tenant } from './tenant.js';

/**
 * In-memory map from hostname to tenant, so resolving a request costs one Map
 * lookup. It reloads when the registry's generation changes, which another process
 * (a CLI command, a second server) bumps on every tenant change: polling that one
 * integer keeps every node within `pollIntervalMs` of the truth.
 */
export class HostResolver {
  private byHost = new Map<string, Tenant>();
  private generation = -1;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly registry: RegistryStore,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  resolve(host: string): Tenant | undefined {
    return this.byHost.get(host);
  }

  get tenantCount(): number {
    return new Set(this.byHost.values()).size;
  }

  /** Reloads if the registry changed since the last load. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  start(pollIntervalMs: number): void {
    this.timer = setInterval(() => {
      this.refresh().catch(this.onError);
    }, pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async load(): Promise<void> {
    const generation = await this.registry.generation();
    if (generation === this.generation) return;
    const tenants = await this.registry.listTenants();
    const byHost = new Map<string, Tenant>();
    for (const tenant of tenants) for (const host of tenant.hosts) byHost.set(host, tenant);
    this.byHost = byHost;
    this.generation = generation;
  }
}
