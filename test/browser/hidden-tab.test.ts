/**
 * A volunteer's tab spends its life hidden behind others, where Chrome throttles the page's
 * timers (once a second at once; once a minute after five minutes, shortened to 10 s here: see
 * cdp.ts). The protocol agent runs in a dedicated worker, whose timers are not throttled, so a
 * hidden tab keeps computing through several leases and still notices, within seconds, a
 * coordinator that stopped answering (heartbeats), then redials it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { volunteerKey } from '../../coordinator/websocket-channel.js';
import { type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { CdpChromium, type CdpTab, INTENSIVE_THROTTLING_AFTER_S } from './cdp.js';
import { batchTasks, DONE, freePort, hasChromium, INSTALL_HINT, sleep } from './chromium.js';

if (!hasChromium) console.warn(INSTALL_HINT);

// Short leases: the point is "more than two leases", not their length (the default is 60 s).
const LEASE_S = 8;

describe.skipIf(!hasChromium)('a hidden volunteer tab', () => {
  let grid: TestGrid;
  let coord: CoordinatorProcess;
  let chromium: CdpChromium;

  beforeAll(async () => {
    grid = await new TestGrid().start();
    coord = await grid.coordinator({ args: ['--http-port', String(await freePort())] });
    chromium = await CdpChromium.launch();
  });
  afterAll(async () => {
    if (coord?.proc.signalCode === null) coord.proc.kill('SIGCONT');
    await chromium?.close();
    await grid?.close();
  });

  it(`keeps computing for more than 2 leases (${LEASE_S} s) under intensive timer throttling, and notices a silent coordinator within seconds`, async () => {
    const tab: CdpTab = await chromium.openTab(`${coord.url}/?threads=1`);
    await eventually(async () => (await tab.evaluate<string>("document.body?.dataset.connection ?? ''").catch(() => '')) === 'connected', 30_000);
    const key = volunteerKey(await tab.evaluate<string>("localStorage.getItem('swarmgrid.volunteer.id')"));
    await coord.waitFor('worker-joined', (e) => e.worker === key);
    // A probe of the page's own timers: a chain of 100 ms timeouts, as throttling sees it.
    await tab.evaluate(`(() => { window.__ticks = []; const f = () => { window.__ticks.push(Date.now()); setTimeout(f, 100); }; f(); })()`);

    await chromium.openTab('about:blank'); // a tab in front: the volunteer's goes to the background
    expect(await tab.evaluate<string>('document.visibilityState')).toBe('hidden');
    await sleep((INTENSIVE_THROTTLING_AFTER_S + 2) * 1000);
    const recentTicks = () => tab.evaluate<number>('window.__ticks.filter((t) => t > Date.now() - 10000).length');
    // The page's timers are throttled now: 100 ticks in 10 s unthrottled, about 10 at once a
    // second (Chrome's throttling of hidden pages), 1 at once a minute (intensive throttling,
    // which Chromium 156 did not apply to this page within the test's time).
    const throttledTicks = await recentTicks();
    console.log(`hidden tab: the page's 100 ms timer chain ran ${throttledTicks} times in 10 s`);
    expect(throttledTicks).toBeLessThanOrEqual(15);

    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 100_000, samplesPerUnit: 2_000_000 }, policy: { replication: 1, quorum: 1, lease: LEASE_S } });
    const done = () => batchTasks(coord.dataDir, id).filter((t) => DONE.has(t.state)).length;
    await eventually(() => done() > 0, 20_000);
    // Two leases and more, in windows of a third of a lease: results keep arriving in each.
    const counts = [done()];
    for (let waited = 0; waited < 2 * LEASE_S + 5; waited += LEASE_S / 3) {
      await sleep((LEASE_S / 3) * 1000);
      counts.push(done());
    }
    console.log(`hidden tab: results per ${(LEASE_S / 3).toFixed(1)} s window: ${counts.slice(1).map((c, i) => c - counts[i]!).join(', ')}`);
    for (let i = 1; i < counts.length; i++) expect(counts[i], `window ${i}`).toBeGreaterThan(counts[i - 1]!);
    expect(batchTasks(coord.dataDir, id).filter((t) => t.state === 'expired')).toEqual([]);
    expect(await recentTicks()).toBeLessThanOrEqual(15); // still throttled throughout

    // The coordinator freezes (a half-open connection, as after a network change): the tab's
    // heartbeat finds it silent, drops the socket and redials; the frozen process sees the old
    // session end and the new one start when it resumes.
    const joinsBefore = coord.events.filter((e) => e.event === 'worker-joined' && e.worker === key).length;
    coord.proc.kill('SIGSTOP');
    await sleep(12_000);
    coord.proc.kill('SIGCONT');
    await coord.waitFor('worker-left', (e) => e.worker === key, 20_000);
    await eventually(() => coord.events.filter((e) => e.event === 'worker-joined' && e.worker === key).length > joinsBefore, 30_000);
    const after = done();
    await eventually(() => done() > after, 30_000);
    await client.cancel(id);
  }, 180_000);
});
