// The documents of held setpoints (CONTRACT.md section 7), pure: a command's `value: null` and
// `holdMs`, the setpoint document as read from ZooKeeper (anything may be there), and the devices'
// fallback timers as the site view picks them from the agents' readings.
import { describe, expect, it } from 'vitest';
import { MAX_HOLD_MS, parseCommand } from '../../src/coordination/command.js';
import { fallbackTimers } from '../../src/coordination/fallback-view.js';
import { parseSetpoint } from '../../src/coordination/setpoint-document.js';
import type { AgentView } from '../../src/coordination/site-view.js';

const cmd = (doc: unknown) => parseCommand(Buffer.from(JSON.stringify(doc)));

describe('a command', () => {
  it('with value null is a release; without a value it is malformed', () => {
    expect(cmd({ device: 'd', point: 'p', value: null })).toMatchObject({ ok: true, command: { device: 'd', point: 'p', value: null } });
    expect(cmd({ device: 'd', point: 'p' })).toMatchObject({ ok: false, reason: 'value: missing' });
  });

  it('holdMs: a positive integer of ms up to 30 days, not on a release', () => {
    expect(cmd({ device: 'd', point: 'p', value: 1, holdMs: 1000 })).toMatchObject({ ok: true, command: { holdMs: 1000 } });
    expect(cmd({ device: 'd', point: 'p', value: 1, holdMs: MAX_HOLD_MS })).toMatchObject({ ok: true });
    for (const bad of [0, -5, 1.5, MAX_HOLD_MS + 1, '1000', null]) {
      expect(cmd({ device: 'd', point: 'p', value: 1, holdMs: bad }), JSON.stringify(bad)).toMatchObject({ ok: false, reason: expect.stringMatching(/^holdMs: must be a positive integer of at most 2592000000/) });
    }
    expect(cmd({ device: 'd', point: 'p', value: null, holdMs: 1000 })).toMatchObject({ ok: false, reason: 'holdMs: a release (value null) holds nothing' });
  });
});

describe('a setpoint document', () => {
  const good = { device: 'inv-1', point: 'activePowerLimit', value: 30, command: 'cmd-0000000042', token: '4294967302', setAt: '2026-11-25T10:00:00.000Z', holdUntil: null };

  it('is parsed with the contract keys and the optional agentId and issuedBy', () => {
    expect(parseSetpoint(Buffer.from(JSON.stringify({ ...good, agentId: 'gw-a', issuedBy: 'ems' })))).toEqual({ ok: true, setpoint: { ...good, agentId: 'gw-a', issuedBy: 'ems' } });
    expect(parseSetpoint(Buffer.from(JSON.stringify({ ...good, holdUntil: '2026-11-25T11:00:00.000Z' })))).toMatchObject({ ok: true });
  });

  it('that is not one says why', () => {
    expect(parseSetpoint(Buffer.from('not json'))).toEqual({ ok: false, reason: 'not a JSON object' });
    expect(parseSetpoint(Buffer.from(JSON.stringify({ ...good, token: 7 })))).toEqual({ ok: false, reason: 'token: expected a non-empty string, got 7' });
    expect(parseSetpoint(Buffer.from(JSON.stringify({ ...good, value: null })))).toEqual({ ok: false, reason: 'value: missing' });
    expect(parseSetpoint(Buffer.from(JSON.stringify({ ...good, holdUntil: 'soon' })))).toEqual({ ok: false, reason: 'holdUntil: expected an ISO time or null, got "soon"' });
  });
});

describe('fallback timers in the site view', () => {
  const agent = (agentId: string, devices: Record<string, unknown>): AgentView => ({ agentId, document: null, readings: { devices } });

  it('per device, the latest refresh of any agent; bad data skipped', () => {
    const timers = fallbackTimers([
      agent('gw-a', {
        'inv-1': { fallback: { windowMs: 60000, refreshedAt: '2026-11-25T10:00:00.000Z', revertsBy: '2026-11-25T10:01:00.000Z' } },
        'bms-1': { fallback: { windowMs: 'x' } },
        'wt-1': { status: 'ok' },
      }),
      agent('gw-b', { 'inv-1': { fallback: { windowMs: 60000, refreshedAt: '2026-11-25T10:00:20.000Z', revertsBy: '2026-11-25T10:01:20.000Z' } } }),
    ]);
    expect(timers).toEqual({ 'inv-1': { windowMs: 60000, refreshedAt: '2026-11-25T10:00:20.000Z', revertsBy: '2026-11-25T10:01:20.000Z', refreshedBy: 'gw-b' } });
  });
});
