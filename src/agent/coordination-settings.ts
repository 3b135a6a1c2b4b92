import type { SiteConfig } from '../config/types.js';
import { readCredentialsFile, type SiteCoordinatorSettings } from '../coordination/index.js';

/**
 * What coordination gets of the site config: plain values, the credentials file read here (the one
 * place an agent reads it; throws CredentialsError naming the file) and, for the actuation gate's
 * timing rule, the longest a write can take: the largest bus timeoutMs (0 without buses: nothing
 * can be written then).
 */
export function coordinationSettings(config: SiteConfig): SiteCoordinatorSettings {
  const auth = config.zookeeper.auth;
  return {
    site: config.site,
    agentId: config.agent.id,
    connect: config.zookeeper.connect,
    root: config.zookeeper.root,
    sessionTimeoutMs: config.zookeeper.sessionTimeoutMs,
    credentials: auth === undefined ? null : readCredentialsFile(auth.credentialsFile),
    commandIssuers: auth?.commandIssuers ?? [],
    publishIntervalMs: config.publish.intervalMs,
    commandTtlMs: config.control.commandTtlMs,
    resultsKept: config.control.resultsKept,
    resultsMaxAgeMs: config.control.resultsMaxAgeMs,
    maxWriteMs: Math.max(0, ...config.buses.map((b) => b.timeoutMs)),
  };
}
