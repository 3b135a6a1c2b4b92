// Section 7 of RESULTS.md from what held-setpoints.ts measured: the SIGKILL takeover as the device
// saw it against the revert window and the session timeout, and what refreshing costs the bus. Pure.
import { refreshIntervalMs, takeoverBudgetMs } from '../../src/config/fallback-timing.js';
import { figure, type Section } from './report.js';
import { summarize } from './stats.js';

/** One SIGKILL of the holder; times on the device's clock (its write log), from the kill. */
export interface HeldRun {
  from: string;
  to: string;
  /** SIGKILL → the standby's first write reaching the device (its re-assertion). */
  killToReassertMs: number;
  /** SIGKILL → the killed holder's lock node gone (its session expired), as the bench's exists watch on it was told. */
  killToLockGoneMs: number;
  /** The killed holder's last write → the standby's re-assertion: what the device's timer had to last. */
  lastWriteToReassertMs: number;
  /** Writes of the killed holder that reached the device after the kill (bytes already on their way). */
  holderWritesAfterKill: number;
  reassertion: { address: number; values: number[] };
}

/** The holder alive, from one refresh write to the one `intervals` later. */
export interface RefreshWindow {
  ms: number;
  intervals: number;
  /** Registers written in the window (the held point; the timer register only if it had to be set again). */
  addresses: number[];
  gapsMs: number[];
  /** Between the two /metrics scrapes of the holder (each right after the window's first and last write). */
  scrapeMs: number;
  writesBetweenScrapes: number;
  refreshCounter: number;
  /** All Modbus requests of the holder on the bus (polls' reads and the writes); one device on it. */
  busRequests: number;
  polls: number;
}

export interface HeldMeasurement {
  /** As granted by the server. */
  sessionTimeoutMs: number;
  requestedSessionTimeoutMs: number;
  pollIntervalMs: number;
  windowMs: number;
  heldPct: number;
  /** From the agents' start to the hold: the writes the device received; the holder's requests and polls over its last polls. */
  beforeHold: { writes: number; ms: number; busRequests: number; polls: number };
  refresh: RefreshWindow;
  runs: HeldRun[];
  fallbacks: { deviceTimerRanOut: number; samplesOffHold: number; fallbackWrites: number; samples: number };
}

const MS_PER_HOUR = 3_600_000;
/** Above the schedule's rate, the share a measured rate may be off by (timer jitter over a 24 s window). */
const RATE_SLACK = 0.05;

const perHour = (count: number, ms: number): number => (ms > 0 ? (count / ms) * MS_PER_HOUR : NaN);
const s = (ms: number): string => `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
const ms0 = (ms: number): string => `${Math.round(ms)} ms`;

export function heldSection(m: HeldMeasurement): Section {
  const R = m.windowMs;
  const T = m.sessionTimeoutMs;
  const p = m.pollIntervalMs;
  const twoThirds = Math.floor((2 * R) / 3);
  const scheduleMs = refreshIntervalMs(R, p);
  const budgetMs = takeoverBudgetMs(T, p);
  const kill = summarize(m.runs.map((r) => r.killToReassertMs));
  const gap = summarize(m.runs.map((r) => r.lastWriteToReassertMs));
  const expiry = summarize(m.runs.map((r) => r.killToLockGoneMs));
  const afterExpiry = summarize(m.runs.map((r) => r.killToReassertMs - r.killToLockGoneMs));
  const f = m.fallbacks;
  const fellBack = f.deviceTimerRanOut + f.fallbackWrites;

  const w = m.refresh;
  const writesPerHour = perHour(w.intervals, w.ms);
  const schedulePerHour = MS_PER_HOUR / scheduleMs;
  const floorPerHour = MS_PER_HOUR / (R / 3);
  // The polls' requests at the rate per poll measured before the hold; the rest of the holder's requests are the refreshes'
  // (each write, and its read-back under control.verifyWrites).
  const requestsPerPoll = m.beforeHold.polls > 0 ? m.beforeHold.busRequests / m.beforeHold.polls : NaN;
  const pollRequests = w.polls * requestsPerPoll;
  const pollRequestsPerHour = perHour(pollRequests, w.scrapeMs);
  const refreshRequestsPerHour = perHour(w.busRequests - pollRequests, w.scrapeMs);
  const maxGapMs = w.gapsMs.length > 0 ? Math.max(...w.gapsMs) : NaN;
  const rateLimit = Math.round(schedulePerHour * (1 + RATE_SLACK));
  const sessionBaseline = { label: 'session timeout', value: T };
  const rLabel = `R = ${s(R)}`;

  const figures = [
    figure({
      id: 'held.sigkill.max',
      label: `SIGKILL → standby's re-assertion at the device, worst of ${kill.n} (${rLabel})`,
      value: kill.max,
      unit: 'ms',
      baseline: sessionBaseline,
      target: { text: `< 2R/3 (${twoThirds} ms): the device must not revert`, op: '<', limit: twoThirds },
    }),
    figure({ id: 'held.sigkill.p50', label: `SIGKILL → standby's re-assertion at the device, median (${rLabel})`, value: kill.p50, unit: 'ms', baseline: sessionBaseline }),
    figure({
      id: 'held.sigkill.lastWriteGap.max',
      label: `holder's last write → standby's re-assertion, worst of ${gap.n}`,
      value: gap.max,
      unit: 'ms',
      baseline: { label: 'refresh interval R/3 - p', value: scheduleMs },
      target: { text: `< R (${R} ms): the device's timer`, op: '<', limit: R },
    }),
    figure({ id: 'held.fallbacks', label: `device fallbacks over the hold and ${m.runs.length} SIGKILLs (timer ran out, or fallback written)`, value: fellBack, unit: '', target: { text: '0', op: '<=', limit: 0 } }),
    figure({
      id: 'held.refresh.writesPerHour',
      label: `extra Modbus writes per hour, one held point (${rLabel}, p = ${s(p)})`,
      value: writesPerHour,
      unit: 'writes/h',
      baseline: { label: `no hold: the agents' first ${s(m.beforeHold.ms)}`, value: perHour(m.beforeHold.writes, m.beforeHold.ms) },
      target: { text: `<= ${rateLimit}/h: the schedule, 3600 s / (R/3 - p) = ${Math.round(schedulePerHour)}/h, + ${RATE_SLACK * 100} %`, op: '<=', limit: rateLimit },
    }),
    figure({
      id: 'held.refresh.maxGap',
      label: 'longest gap between two refresh writes',
      value: maxGapMs,
      unit: 'ms',
      baseline: { label: 'schedule R/3 - p', value: scheduleMs },
      target: { text: `< R/3 (${Math.floor(R / 3)} ms): the rule`, op: '<', limit: Math.floor(R / 3) },
    }),
    figure({
      id: 'held.refresh.requestsPerHour',
      label: 'extra Modbus requests per hour on the bus, one held point (the writes and their read-backs)',
      value: refreshRequestsPerHour,
      unit: 'requests/h',
      baseline: { label: "the device's polls", value: pollRequestsPerHour },
    }),
    figure({ id: 'held.refresh.busShare', label: "refresh requests beside the device's poll requests", value: (100 * refreshRequestsPerHour) / pollRequestsPerHour, unit: '%' }),
  ];

  const method = [
    `Two agents of one site, session timeout ${m.requestedSessionTimeoutMs} ms (granted: ${T} ms), ZooKeeper tickTime 200 ms, one simulated`,
    `generic inverter on 127.0.0.1 polled every ${p} ms whose \`activePowerLimit\` falls back to 100 % by the device's own revert`,
    `timer, R = ${s(R)} after the last write of it (the simulator's timer, in real time; the profile ships 60 s). Timing rule:`,
    `2R/3 = ${twoThirds} ms > T + 2p + 1 s = ${budgetMs} ms. A command holds the limit at ${m.heldPct} %. The device's write log`,
    '(the in-process simulator\'s, the records `gridkeeper simulate --write-log` writes) is the witness.',
    '',
    `- Refresh cost: the holder alive, from one of its refresh writes to the one ${w.intervals} later (${s(w.ms)}): every write the`,
    `  device received, per hour. The holder's /metrics, scraped right after the first and the last, give all its requests on the`,
    `  bus (\`gridkeeper_modbus_requests_total\`, one device on it) and its polls: the polls' share at the ${fmtNum(requestsPerPoll, 2)} requests per`,
    `  poll it made before the hold (${m.beforeHold.polls} polls), the rest is the refreshes'; \`gridkeeper_setpoint_refreshes_total\` rose by`,
    `  ${w.refreshCounter} against ${w.writesBetweenScrapes} writes logged between the scrapes.`,
    `- SIGKILL takeover, ${m.runs.length} runs: SIGKILL the holder at a random point of its refresh cycle, time until the first write of`,
    '  another Modbus client reaches the device (the standby\'s re-assertion), and until the bench\'s exists watch on the dead',
    '  holder\'s lock node tells it the node is gone (its session expired; the standby is told by the same kind of watch, so the',
    '  split is good to a few ms). The killed agent is replaced by a fresh standby before the next run.',
    `- Fallbacks: the device logs its timer running out; a sampler read the value it serves every 50 ms (${f.samples} samples from the`,
    `  hold on, ${f.samplesOffHold} not ${m.heldPct} %); ${f.fallbackWrites} writes of the fallback value (100 %) in the log.`,
    '',
    '| run | from → to | SIGKILL → lock node gone | → re-assertion at the device | holder\'s last write → re-assertion | re-assertion wrote | holder writes after the kill |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...m.runs.map(
      (r, i) =>
        `| ${i + 1} | ${r.from} → ${r.to} | ${ms0(r.killToLockGoneMs)} | ${ms0(r.killToReassertMs)} | ${ms0(r.lastWriteToReassertMs)} | register ${r.reassertion.address} = ${r.reassertion.values.join(', ')} | ${r.holderWritesAfterKill} |`,
    ),
    '',
    '| | n | min | p50 | max |',
    '| --- | --- | --- | --- | --- |',
    row('SIGKILL → lock node gone', expiry),
    row('lock node gone → re-assertion', afterExpiry),
    row('SIGKILL → re-assertion', kill),
    row("holder's last write → re-assertion", gap),
    '',
    `| holder alive, ${s(w.ms)} | count | per hour |`,
    '| --- | --- | --- |',
    `| refresh writes to the device (registers ${w.addresses.join(', ')}), gaps ${w.gapsMs.length > 0 ? `${ms0(Math.min(...w.gapsMs))}..${ms0(maxGapMs)}` : '—'} | ${w.intervals} | ${fmtNum(writesPerHour, 0)} |`,
    `| by the schedule, every R/3 - p = ${scheduleMs} ms | | ${fmtNum(schedulePerHour, 0)} |`,
    `| the rule's floor, every R/3 = ${Math.floor(R / 3)} ms | | ${fmtNum(floorPerHour, 0)} |`,
    `| the holder's Modbus requests between the scrapes (${s(w.scrapeMs)}) | ${w.busRequests} | ${fmtNum(perHour(w.busRequests, w.scrapeMs), 0)} |`,
    `| of which the device's ${w.polls} polls, ${fmtNum(requestsPerPoll, 2)} requests each | ${fmtNum(pollRequests, 0)} | ${fmtNum(pollRequestsPerHour, 0)} |`,
    `| of which the refreshes (writes, read-backs) | ${fmtNum(w.busRequests - pollRequests, 0)} | ${fmtNum(refreshRequestsPerHour, 0)} |`,
  ];

  const atDefault = MS_PER_HOUR / refreshIntervalMs(60_000, p);
  const analysis = [
    `A SIGKILLed holder tells nobody: the server expires its session when it has not heard from it for the session timeout,`,
    `counted from its last ping and checked every tick, so its lock node went ${ms0(expiry.min)}..${ms0(expiry.max)} after the kill (T = ${T} ms).`,
    `The standby's watch then fires; it verifies its lock node, opens its gate, reads setpoints/ and writes the held value before any`,
    `command: ${ms0(afterExpiry.min)}..${ms0(afterExpiry.max)} more, where the rule allows 1 s and a poll. So SIGKILL → re-assertion ≈ T + lock +`,
    `re-assert, ${ms0(kill.p50)} at the median, against the ${twoThirds} ms (2R/3) the device is sure to wait: the holder's last write restarted`,
    `its timer at most R/3 - p + p = R/3 before the kill, so it cannot fall back before 2R/3 after it. \`validate\` keeps`,
    `T + 2p + 1 s (${budgetMs} ms) below 2R/3; the device's timer in these runs had to last ${ms0(gap.max)} at worst of its ${R} ms.`,
    '',
    `Refreshing costs one write per held point every R/3 - p: ${fmtNum(writesPerHour, 0)} writes an hour here (R = ${s(R)}), and with each its`,
    `read-back (control.verifyWrites, on by default) ${fmtNum(refreshRequestsPerHour, 0)} requests an hour on the bus, ${fmtNum((100 * refreshRequestsPerHour) / pollRequestsPerHour, 1)} % on top of the`,
    `${fmtNum(pollRequestsPerHour, 0)} the device's polls take. The cost falls with the window: the profile's 60 s makes it ${fmtNum(atDefault, 0)} writes an hour`,
    `(${fmtNum(2 * atDefault, 0)} requests with the read-backs); a SunSpec control writes its setpoint and its enable flag, twice as many. Without a`,
    'hold nothing is written.',
  ];
  const misses = figures.filter((x) => x.verdict === 'miss').map((x) => x.id);
  if (misses.includes('held.sigkill.max') || misses.includes('held.fallbacks')) {
    analysis.push(
      '',
      'Takeover late: compare "SIGKILL → lock node gone" with T (the server expired the session late: a loaded ensemble or a',
      'tickTime above 500 ms) and "lock node gone → re-assertion" with the 1 s the rule allows (a slow standby or bus). Either',
      'way the device fell back to its safe value for a moment; no agent without the lock wrote it.',
    );
  }
  if (misses.includes('held.refresh.writesPerHour') || misses.includes('held.refresh.maxGap')) {
    analysis.push('', 'Refresh off its schedule: writes beyond one per R/3 - p are drift corrections or read-backs tried again (a poll that read another value); a gap over R/3 is a refresh timer firing late on a busy event loop.');
  }
  return {
    id: '7',
    title: '7. Held setpoints',
    figures,
    method,
    details: { ...m, twoThirdsWindowMs: twoThirds, refreshScheduleMs: scheduleMs, takeoverBudgetMs: budgetMs, writesPerHour, requestsPerPoll, pollRequestsPerHour, refreshRequestsPerHour },
    analysis,
    error: null,
  };
}

function row(label: string, x: { n: number; min: number; p50: number; max: number }): string {
  return `| ${label} | ${x.n} | ${ms0(x.min)} | ${ms0(x.p50)} | ${ms0(x.max)} |`;
}

function fmtNum(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '—';
}
