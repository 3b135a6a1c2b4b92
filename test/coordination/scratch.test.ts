import { it } from 'vitest';
import ZooKeeper from 'zookeeper';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { startZooKeeper } from '../helpers/zookeeper.js';
import { sleep } from '../helpers/wait.js';

it('scratch', async () => {
  const zk = await startZooKeeper({ tickTimeMs: 200 });
  let missing = 0;
  for (let round = 0; round < 30; round++) {
    const proxy = await startTcpProxy({ port: zk.port });
    const c = new ZooKeeper({ connect: proxy.address, timeout: 2000, debug_level: 0, response_counter_limit: 100000 });
    let connecting = -1; let firstLoss = -1; let stateAtLoss = -1;
    const t0 = performance.now();
    c.on('connecting', () => { if (connecting < 0) connecting = performance.now() - t0; });
    c.init({});
    await sleep(100);
    let stop = false;
    const loop = (async () => { while (!stop) { for (let k = 0; k < 5; k++) c.a_exists('/', false, (rc: number) => { if (rc === -4 && firstLoss < 0) { firstLoss = performance.now() - t0; stateAtLoss = c.state; } }); await sleep(Math.random() * 3); } })();
    await sleep(100 + Math.random() * 50);
    await proxy.refuse(true);
    const cutAt = performance.now() - t0;
    proxy.cutAll();
    await sleep(800);
    stop = true; await loop;
    if (connecting < 0) missing++;
    console.log(round, { cutAt: Math.round(cutAt), connecting: Math.round(connecting), firstLoss: Math.round(firstLoss), stateAtLoss, stateNow: c.state });
    c.close();
    await proxy.close();
  }
  console.log('missing connecting events:', missing);
  await zk.stop();
}, 120000);
