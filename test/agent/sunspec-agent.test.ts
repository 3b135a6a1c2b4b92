// SunSpec devices in the Agent, in-process against a real ZooKeeper: a device with `profile:
// sunspec` behind a Modbus TCP server of the test's own (test/drivers/sunspec/fixture-*.ts) is
// discovered, published with m-names and standard names, and curtailed by a command; a broken one
// beside it is `error` with a clear message while the other is served; a command for a control a
// device lacks is rejected with the reason.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import { parseConfig } from '../../src/config/load.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { zooKeeperSuite } from '../helpers/zookeeper-suite.js';
import { freePort } from '../../tools/devtools/ports.js';
import { waitFor } from '../../tools/devtools/wait.js';
import { FixtureServer } from '../drivers/sunspec/fixture-server.js';
import { M103, M123, SunSpecImage } from '../drivers/sunspec/fixture-image.js';

const silent = pino({ level: 'silent' });
const suite = zooKeeperSuite();
const { toClose } = suite;


interface DeviceDoc {
  status: string;
  error: string | null;
  values: Record<string, unknown>;
}

describe('a SunSpec device in the agent', () => {
  it('is published with m-names and standard names, curtailed by a command, and kept apart from a broken one', async () => {
    const server = new FixtureServer();
    await server.start();
    toClose.push(server);
    // Unit 1: an inverter at 40000. Unit 2: one whose W_SF is 11 (out of -10..10).
    const good = new SunSpecImage(server.unit(1), 40000);
    good.common('SN-GOOD');
    good.inverter103();
    good.nameplate120();
    good.settings121();
    const m123 = good.controls123();
    good.mppt160(2);
    good.end();
    const bad = new SunSpecImage(server.unit(2), 0);
    bad.common('SN-BAD');
    bad.inverter103().i16(M103.W_SF, 11);
    bad.end();

    const site = 'sunspec-agent';
    const config = parseConfig(
      `
site: ${site}
agent: { id: gw-a }
zookeeper: { connect: "${suite.zk.connectString}", sessionTimeoutMs: 4000 }
publish: { intervalMs: 100 }
http: { listen: "127.0.0.1:${await freePort()}" }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: ${server.port}, timeoutMs: 500 }
devices:
  - { id: pv-1, kind: inverter, bus: lan, unitId: 1, profile: sunspec, pollIntervalMs: 200, sunspec: { models: [1, 103, 123] } }
  - { id: pv-2, kind: inverter, bus: lan, unitId: 2, profile: sunspec, pollIntervalMs: 200 }
`,
      `${site}.yaml`,
    );
    const agent = new Agent(config, { logger: silent, version: 'test' });
    await agent.start();
    toClose.push(agent);
    const op = await SiteClient.open({ connect: suite.zk.connectString, site }, { logger: silent });
    toClose.push(op);

    const devicesOf = async (): Promise<Record<string, DeviceDoc>> => {
      const doc = (await op.readings('gw-a')) as { devices?: Record<string, DeviceDoc> } | null;
      return doc?.devices ?? {};
    };
    const first = await waitFor(
      'pv-1 ok and pv-2 in error, published',
      async () => {
        const d = await devicesOf();
        return d['pv-1']?.status === 'ok' && d['pv-2']?.status === 'error' ? d : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(first['pv-1']?.values).toMatchObject({
      activePower: 4520, voltageL1: 230.1, frequency: 50.01, serialNumber: 'SN-GOOD', activePowerLimit: 100,
      m103_W: 4520, m103_VA: null, m160_2_DCW: 2000, m123_WMaxLim_Ena: 0,
    });
    expect(first['pv-2']).toMatchObject({ values: {}, error: 'model 103: scale factor m103_W_SF is 11, not an integer from -10 to 10' });

    await waitFor('leader', () => agent.isLeader, { timeoutMs: 10_000 });
    const curtail = await op.submit({ device: 'pv-1', point: 'activePowerLimit', value: 40, issuedBy: 'test' });
    const result = await op.awaitResult(curtail, 10_000);
    expect(result).toMatchObject({ status: 'applied', readBack: 40, error: null });
    // A held setpoint (CONTRACT.md section 7): the revert timer first (sunspec.revertSeconds, 60 s), then the recipe.
    expect(server.writes(1)).toEqual([
      { address: m123.at(M123.WMaxLimPct_RvrtTms), values: [60] },
      { address: m123.at(M123.WMaxLimPct), values: [400] },
      { address: m123.at(M123.WMaxLim_Ena), values: [1] },
    ]);
    await waitFor('the limit published', async () => (await devicesOf())['pv-1']?.values['activePowerLimit'] === 40, { timeoutMs: 5000 });

    const noControl = await op.submit({ device: 'pv-1', point: 'chargeRate', value: 50 });
    expect(await op.awaitResult(noControl, 10_000)).toMatchObject({
      status: 'rejected',
      error: 'point: SunSpec device pv-1 has no chargeRate: it needs model 124, and the device has models 1, 103, 120, 121, 123, 160',
    });
    const reading = await op.submit({ device: 'pv-1', point: 'm103_W', value: 50 });
    expect(await op.awaitResult(reading, 10_000)).toMatchObject({ status: 'rejected' });
    const outOfRange = await op.submit({ device: 'pv-1', point: 'activePowerLimit', value: 150 });
    expect(await op.awaitResult(outOfRange, 10_000)).toMatchObject({ status: 'rejected', error: 'value: pv-1.activePowerLimit: 150 is above max 100' });
    expect(server.writes(1)).toHaveLength(3);
  });
});
