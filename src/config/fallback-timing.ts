// The timing of held setpoints (CONTRACT.md section 7): how often the lock holder refreshes a
// device's fallback timer, and the rule `validate` enforces so that a successor can take over before
// the device falls back. Pure; used by the config checks and by the agent's SetpointKeeper.
//
// Terms: R = the device's window, ms (a revert timer's seconds, a watchdog's everyMs, SunSpec
// revertSeconds): the device falls back R after the last write of the held point (or its watchdog)
// reached it. T = zookeeper.sessionTimeoutMs. p = the device's pollIntervalMs. W = the bus's
// timeoutMs + pauseMs, the longest one request holds the bus.
//
// Schedule: while its actuation gate is open the holder refreshes every P = R/3 - p (monotonic
// clock). A refresh is a write queued ahead of every waiting poll read; it waits only for the request
// on the wire, so on a bus that carries its refresh rounds (rule 2) it reaches an answering device
// within one poll interval p (assumption A).
//
// Proof that a successor re-asserts before the device falls back:
//  1. With the holder alive, refreshes reach the device at most P + p = R/3 apart: each restarts the
//     device's timer with 2R/3 still left, so it never falls back, even when one refresh is lost.
//  2. The holder stops at s (crash, SIGKILL, or its gate closes: from then on it writes nothing).
//     Let t <= s be its last refresh start. Landed: it landed at >= t > s - P. Cut off (the write had
//     not landed by s, so s < t + p): the one before started at t - P > s - R/3 and landed. Either
//     way the last write landed after s - R/3, so the device cannot fall back before s + 2R/3.
//  3. ZooKeeper expires the holder's session at most T after it last heard from it, and it heard
//     nothing after s (a dead or cut-off holder sends nothing; a stalled one closed its gate when it
//     stalled). The successor's watch then fires, it verifies its lock node, its gate opens and it
//     reads setpoints/ and re-asserts them before any command: ZooKeeper's share of that (the expiry
//     rounded up to the server's tick, the watch, three or four round trips) is within 1 s on a LAN
//     with tickTime <= 500 ms (assumption B). Its first write lands within p (assumption A). So the
//     re-assertion lands by s + T + 1 s + p.
//  4. Rule 1 (validate, exit 78 at the window's key): 2R/3 > T + 2p + 1 s. Then s + T + 1 s + p <
//     s + 2R/3: the successor is in time, with one more p to spare for a refresh timer that fires
//     late on a busy event loop.
// Rule 2 (validate, at the bus): one round of refresh writes of every held point and watchdog of a
// bus, each taking W in the worst case, fits in the shortest refresh interval P on that bus;
// otherwise refreshes would queue up faster than the bus carries them and assumption A fails.
// If the ensemble grants a longer session timeout than requested, the agent warns at run time.
//
// What the timing does not carry: safety. Every refresh and re-assertion asks the actuation gate
// right before its bytes go out, so an agent that is not the verified holder never refreshes a
// timer, and a device whose refreshes stop falls back within R by itself. When an assumption fails
// (requests running into their timeouts, a slow ensemble) the price is availability: the device may
// return to its fallback for a moment before the successor's write lands.

/** ZooKeeper's share of a takeover (assumption B), ms. */
export const TAKEOVER_ALLOWANCE_MS = 1000;

/** A device's window as its config gives it, with what the refresh of it writes. */
export interface RefreshWindow {
  /** `revertTimer` of a point's fallback, the device's `watchdog`, or a SunSpec device's revertSeconds. */
  source: 'revertTimer' | 'watchdog' | 'sunspec';
  /** The held point (revertTimer) or the watchdog register; absent for SunSpec (its controls). */
  point?: string;
  windowMs: number;
  /** Writes one refresh puts on the bus in steady state (the timer register only after a device reset). */
  writes: number;
}

/** What the timing needs of a device, raw or resolved. */
export interface FallbackDevice {
  kind: string;
  points: ReadonlyArray<{ name: string; fallback?: { revertTimer?: { seconds: number } | undefined } | undefined }>;
  watchdog?: { point: string; everyMs: number } | undefined;
  /** Set for a `profile: sunspec` device: the window of its controls' revert timers, s. */
  sunspecRevertSeconds?: number | undefined;
}

/** SunSpec controls a device of this kind may carry (known only after discovery): storage has two. */
function sunspecControls(kind: string): number {
  return kind === 'bms' ? 2 : 1;
}

/** The windows a device's holder must refresh; [] for a device without a fallback timer. */
export function refreshWindows(device: FallbackDevice): RefreshWindow[] {
  const out: RefreshWindow[] = [];
  for (const p of device.points) {
    const seconds = p.fallback?.revertTimer?.seconds;
    if (seconds !== undefined) out.push({ source: 'revertTimer', point: p.name, windowMs: seconds * 1000, writes: 1 });
  }
  if (device.watchdog !== undefined) out.push({ source: 'watchdog', point: device.watchdog.point, windowMs: device.watchdog.everyMs, writes: 1 });
  // A SunSpec control's refresh writes the setpoint and its enable flag.
  if (device.sunspecRevertSeconds !== undefined) {
    out.push({ source: 'sunspec', windowMs: device.sunspecRevertSeconds * 1000, writes: 2 * sunspecControls(device.kind) });
  }
  return out;
}

/** T + 2p + 1 s: what two thirds of a window must exceed (rule 1). */
export function takeoverBudgetMs(sessionTimeoutMs: number, pollIntervalMs: number): number {
  return sessionTimeoutMs + 2 * pollIntervalMs + TAKEOVER_ALLOWANCE_MS;
}

/** Rule 1: 2R/3 > T + 2p + 1 s (integers: 2R > 3 budget). */
export function windowAllowsTakeover(windowMs: number, sessionTimeoutMs: number, pollIntervalMs: number): boolean {
  return 2 * windowMs > 3 * takeoverBudgetMs(sessionTimeoutMs, pollIntervalMs);
}

/** P = R/3 - p: how often the holder refreshes a window, ms (positive wherever rule 1 holds). */
export function refreshIntervalMs(windowMs: number, pollIntervalMs: number): number {
  return Math.floor(windowMs / 3) - pollIntervalMs;
}

/** Rule 2's left side: one round of `writes` refresh writes on a bus, each at its worst, ms. */
export function busRoundMs(writes: number, bus: { timeoutMs: number; pauseMs: number }): number {
  return writes * (bus.timeoutMs + bus.pauseMs);
}
