// The bench's section 7 (tools/bench/held-section.ts) from made-up measurements: figures, verdicts
// against 2R/3 and the refresh schedule, and the per-hour arithmetic. Pure.
import { describe, expect, it } from 'vitest';
import { heldSection, type HeldMeasurement, type HeldRun } from '../../tools/bench/held-section.js';
import { renderMarkdown } from '../../tools/bench/report.js';

function run(killToReassertMs: number, lastWriteToReassertMs: number): HeldRun {
  return { from: 'a', to: 'b', killToReassertMs, killToLockGoneMs: killToReassertMs - 30, lastWriteToReassertMs, holderWritesAfterKill: 0, reassertion: { address: 120, values: [300] } };
}

/** R = 12 s, T = 4 s, p = 1 s: refreshes every 3 s, 8 of them in 24 s, each read back; 3 requests a poll. */
function measurement(over: Partial<HeldMeasurement> = {}): HeldMeasurement {
  return {
    sessionTimeoutMs: 4000,
    requestedSessionTimeoutMs: 4000,
    pollIntervalMs: 1000,
    windowMs: 12_000,
    heldPct: 30,
    beforeHold: { writes: 0, ms: 5000, busRequests: 9, polls: 3 },
    refresh: { ms: 24_000, intervals: 8, addresses: [120], gapsMs: Array<number>(8).fill(3000), scrapeMs: 24_000, writesBetweenScrapes: 8, refreshCounter: 8, busRequests: 88, polls: 24 },
    runs: [run(4100, 5000), run(3900, 6000), run(4000, 4500)],
    fallbacks: { deviceTimerRanOut: 0, samplesOffHold: 0, fallbackWrites: 0, samples: 900 },
    ...over,
  };
}

const byId = (section: ReturnType<typeof heldSection>, id: string) => section.figures.find((f) => f.id === id);

describe('bench section 7: held setpoints', () => {
  it('a takeover well inside 2R/3 and refreshes on schedule pass; writes per hour are the schedule', () => {
    const section = heldSection(measurement());
    expect(section.id).toBe('7');
    expect(byId(section, 'held.sigkill.max')).toMatchObject({ value: 4100, verdict: 'pass', baseline: { value: 4000 }, target: { limit: 8000 } });
    expect(byId(section, 'held.sigkill.p50')?.value).toBe(4000);
    expect(byId(section, 'held.sigkill.lastWriteGap.max')).toMatchObject({ value: 6000, verdict: 'pass', target: { limit: 12_000 } });
    expect(byId(section, 'held.fallbacks')).toMatchObject({ value: 0, verdict: 'pass' });
    expect(byId(section, 'held.refresh.writesPerHour')).toMatchObject({ value: 1200, verdict: 'pass', baseline: { value: 0 }, target: { limit: 1260 } });
    expect(byId(section, 'held.refresh.maxGap')).toMatchObject({ value: 3000, verdict: 'pass', target: { limit: 4000 } });
    // 24 polls × 3 requests in 24 s = 10800 an hour; the other 16 requests (8 writes, 8 read-backs) 2400 an hour.
    expect(byId(section, 'held.refresh.requestsPerHour')).toMatchObject({ value: 2400, verdict: 'info', baseline: { value: 10_800 } });
    expect(byId(section, 'held.refresh.busShare')?.value).toBeCloseTo((100 * 2400) / 10_800, 6);
    expect(section.analysis.join('\n')).not.toMatch(/Takeover late/);
    const md = renderMarkdown({ machine: { cpuModel: 'x', cores: 1, memoryMB: 1, node: 'v20', os: 'linux', date: 'now', loadAverageAtStart: [0], loadAverageAtEnd: [0] }, durationSeconds: 1, sections: [section] });
    expect(md).toContain('## 7. Held setpoints');
    expect(md).toMatch(/\| 1 \| a → b \| 4070 ms \| 4100 ms \| 5000 ms \| register 120 = 300 \| 0 \|/);
  });

  it('a takeover after 2R/3 or a device that fell back is a miss, with the analysis saying where to look', () => {
    const section = heldSection(measurement({ runs: [run(4000, 5000), run(8200, 11_000)], fallbacks: { deviceTimerRanOut: 1, samplesOffHold: 3, fallbackWrites: 0, samples: 900 } }));
    expect(byId(section, 'held.sigkill.max')).toMatchObject({ value: 8200, verdict: 'miss' });
    expect(byId(section, 'held.fallbacks')).toMatchObject({ value: 1, verdict: 'miss' });
    expect(section.analysis.join('\n')).toMatch(/Takeover late/);
  });

  it('refreshes beyond the schedule, or a gap over R/3, are misses', () => {
    const section = heldSection(measurement({ refresh: { ms: 24_000, intervals: 10, addresses: [120], gapsMs: [4200, 1000], scrapeMs: 24_000, writesBetweenScrapes: 10, refreshCounter: 10, busRequests: 82, polls: 24 } }));
    expect(byId(section, 'held.refresh.writesPerHour')).toMatchObject({ value: 1500, verdict: 'miss' });
    expect(byId(section, 'held.refresh.maxGap')).toMatchObject({ value: 4200, verdict: 'miss' });
    expect(section.analysis.join('\n')).toMatch(/Refresh off its schedule/);
  });
});
