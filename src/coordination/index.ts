// Coordination: everything ZooKeeper. Knows nothing of Modbus; the agent hands in a CommandHandler.
export {
  SiteCoordinator,
  type SiteCoordinatorDeps,
  type SiteCoordinatorEvents,
  type SiteCoordinatorOptions,
  type SiteCoordinatorSettings,
} from './site-coordinator.js';
export { ZkSession, type SessionState, type ZkSessionOptions, type ZkSessionEvents } from './session.js';
export { EphemeralNode, ZNODE_MAX_BYTES, type EphemeralNodeOptions } from './ephemeral-node.js';
export { SiteLock, type LockHold, type SiteLockOptions } from './site-lock.js';
export { ActuationGate, NotLeaderError, type ActuationGateOptions } from './actuation-gate.js';
export { CommandQueue, type CommandQueueOptions } from './command-queue.js';
export { HeldSetpoints, type HeldSetpointsOptions } from './held-setpoints.js';
export { parseSetpoint, holdUntilMs, type SetpointDocument } from './setpoint-document.js';
export {
  parseCommand,
  COMMAND_STATUSES,
  MAX_HOLD_MS,
  type Command,
  type CommandHandler,
  type CommandStatus,
  type ResultDocument,
} from './command.js';
export { SitePaths, sequenceOf, sortBySequence, nodeName, lockName, DEFAULT_ROOT, COMMAND_PREFIX, LOCK_PREFIX } from './paths.js';
export { SiteClient, type SiteClientOptions, type LockQueueEntry, type PendingCommand } from './site-client.js';
export { readSiteView, type SiteView, type AgentView, type ConflictView, type DeviceView } from './site-view.js';
export { fallbackTimers, type FallbackTimerView } from './fallback-view.js';
export { AgentConflict, type DuplicateOf } from './agent-conflict.js';
export { chrootOf, ensureChroot, requireChroot } from './chroot.js';
export { connectSession, type ConnectOptions } from './connect.js';
export { parseObject, objectOrText, parseResult, type ParsedResult } from './documents.js';
export { siteAcls, parseAclId, type SiteAcls } from './acl.js';
export { readCredentialsFile, digestAclId, type DigestCredentials } from './credentials.js';
export { ensurePath, ensureNode, ensureSiteTree } from './tree.js';
export { ServerClock } from './server-clock.js';
export { StallDetector } from './stall-detector.js';
export { systemClock, type Clock } from '../clock.js';
export { ZK_PERM, formatSessionId, type ZkAcl, type ZkStat, type CreateMode } from './zk-client.js';
export {
  ZkError,
  isZkError,
  CredentialsError,
  DuplicateAgentError,
  ChrootMissingError,
  ZnodeTooLargeError,
  CoordinationTimeoutError,
  ConnectTimeoutError,
  InvalidDocumentError,
  type ZkErrorCode,
} from './errors.js';
