import { ArchiveScheduler } from '../reports/archive-runner.js';
import { startSubscriptionScheduler } from '../workspace/subscriptions.js';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createDemoTenantOnFirstStart, openPlatform, type Platform } from '../platform/platform.js';
import { HostResolver } from '../tenancy/host-resolver.js';
import { buildApp } from './app.js';
import { pendingSetupLinks } from '../access/setup-links.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly platform: Platform;
  readonly url: string;
  close(): Promise<void>;
}

/** Opens the platform, loads the tenants, and listens. Port 0 picks a free port (tests). */
export async function startServer(options: {
  dataDir: string;
  port: number;
  host?: string;
  logger: Logger | false;
  env?: NodeJS.ProcessEnv;
}): Promise<RunningServer> {
  const platform = await openPlatform({ dataDir: options.dataDir, ...(options.env ? { env: options.env } : {}) });
  try {
    const demo = await createDemoTenantOnFirstStart(platform);
    if (demo && options.logger) options.logger.info({ tenant: demo.slug }, `created the demo tenant for ${demo.hosts.join(', ')}`);
    const resolver = new HostResolver(platform.registry, (error) => {
      if (options.logger) options.logger.warn({ err: error }, 'registry poll failed');
    });
    await resolver.refresh();
    resolver.start(platform.settings.get('General.registry_poll_interval_ms'));
    const app = await buildApp({ platform, resolver, logger: options.logger });
    // Scheduled email reports (Mail.subscriptions_interval_seconds), started before listening: closing the app stops them.
    startSubscriptionScheduler(platform, app, (message) => options.logger && options.logger.warn(message));
    const address = await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
    // Each tenant's reports are archived on its own cadence (General.archiving_interval_seconds).
    const scheduler = new ArchiveScheduler(platform, { log: (message) => options.logger && options.logger.warn(message) });
    scheduler.start();
    const port = Number(new URL(address).port) || 80;
    // First start: no default password ever; print one-time links to create the first super users.
    const logger = options.logger;
    if (logger) {
      void pendingSetupLinks(platform, port).then(
        (links) => {
          for (const link of links) logger.warn({ tenant: link.tenant }, `No super user yet for ${link.tenant}: create one at ${link.url}`);
        },
        (error: unknown) => logger.error({ err: error }, 'could not prepare setup links'),
      );
    }
    return {
      app,
      platform,
      url: address.replace('0.0.0.0', '127.0.0.1'),
      close: async () => {
        scheduler.stop();
        resolver.stop();
        await app.close();
        await platform.close();
      },
    };
  } catch (error) {
    await platform.close();
    throw error;
  }
}
