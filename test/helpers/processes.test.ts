// Child-process handling: lines are collected, waits match old and new lines, a child that exits
// or stays silent fails the wait with its last lines quoted, and nothing outlives killAllChildren().
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildExitedError, freePort, freePorts, killAllChildren, runningChildren, runToCompletion, spawnChild } from '../../tools/devtools/processes.js';

afterAll(killAllChildren);

/** A Node child running `script`. */
function node(script: string) {
  return spawnChild(process.execPath, ['-e', script], { label: 'node -e test-child' });
}

describe('spawnChild', () => {
  it('collects stdout lines and waits for a line, old or new', async () => {
    const child = node(`
      console.log('first');
      setTimeout(() => console.log(JSON.stringify({ level: 30, msg: 'ready', port: 1234 })), 200);
      setTimeout(() => {}, 60000);
    `);
    expect(await child.waitForLine('first', 10_000)).toBe('first');
    const ready = await child.waitForJson((o) => o.msg === 'ready', 10_000);
    expect(ready.port).toBe(1234);
    expect(await child.waitForLine(/^first$/, 1000)).toBe('first'); // already printed lines count
    const status = await child.stop();
    expect(status).toEqual({ code: null, signal: 'SIGTERM' });
    expect(child.isRunning()).toBe(false);
  });

  it('fails a wait at once when the child exits, quoting its output', async () => {
    const child = node(`console.log('about to fail'); console.error('bad config'); process.exit(78);`);
    const err = await child.waitForLine('never printed', 10_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChildExitedError);
    expect(String(err)).toMatch(/code 78/);
    expect(String(err)).toMatch(/about to fail/);
    expect(String(err)).toMatch(/bad config/);
    expect((await child.exited).code).toBe(78);
  });

  it('times out with the last lines quoted', async () => {
    const child = node(`console.log('tick'); setTimeout(() => {}, 60000);`);
    await child.waitForLine('tick', 10_000);
    await expect(child.waitForLine('tock', 300)).rejects.toThrow(/Timeout after 300ms.*\n[\s\S]*tick/);
    await child.stop();
  });

  it('stop() escalates to SIGKILL when SIGTERM is ignored', async () => {
    const child = node(`process.on('SIGTERM', () => console.log('ignoring')); console.log('up'); setInterval(() => {}, 1000);`);
    await child.waitForLine('up', 10_000);
    expect(await child.stop(300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(child.lines).toContain('ignoring');
  });

  it('killAllChildren() ends every child still running', async () => {
    const children = [node('setInterval(() => {}, 1000)'), node('setInterval(() => {}, 1000)')];
    expect(runningChildren().length).toBeGreaterThanOrEqual(2);
    await killAllChildren();
    expect(runningChildren()).toHaveLength(0);
    for (const c of children) expect(c.exitStatus?.signal).toBe('SIGKILL');
  });

  it('runToCompletion() returns status and output', async () => {
    const result = await runToCompletion(process.execPath, ['-e', "console.log('out'); console.error('err'); process.exit(2)"]);
    expect(result).toMatchObject({ code: 2, stdout: 'out', stderr: 'err', timedOut: false });
  });
});

describe('freePort', () => {
  it('gives distinct ports that can be listened on', async () => {
    const ports = await freePorts(3);
    expect(new Set(ports).size).toBe(3);
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
