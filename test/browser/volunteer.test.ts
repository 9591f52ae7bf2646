/**
 * The browser volunteer end to end: a local DHT and coordinator process (TestGrid), Debian's
 * Chromium on the coordinator's page, and assertions on the coordinator's own records.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { type CoordinatorProcess, eventually, TestGrid } from '../helpers/grid.js';
import { batchTasks, DONE, freePort, hasChromium, INSTALL_HINT, launchChromium, openVolunteer, sleep, workUnitStates } from './chromium.js';
import { volunteerKey } from '../../coordinator/websocket-channel.js';

if (!hasChromium) console.warn(INSTALL_HINT);

describe.skipIf(!hasChromium)('the browser volunteer', () => {
  let browser: Browser;
  let grid: TestGrid;
  let coord: CoordinatorProcess;
  let client: GridClient;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  async function startGrid(): Promise<void> {
    grid = await new TestGrid().start();
    coord = await grid.coordinator();
    client = new GridClient({ url: coord.url, token: coord.token });
  }

  afterEach(async () => {
    for (const context of browser.contexts()) await context.close();
    await grid?.close();
  });

  const browserTasks = (batchId: string) => batchTasks(coord.dataDir, batchId).filter((t) => t.runtime === 'browser');

  it('completes a batch with tasks computed in the browser, the page running under its CSP without errors', async () => {
    await startGrid();
    const vol = await openVolunteer(browser, coord.url, { threads: 1 });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(vol.id) && e.runtime === 'browser');
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 20, samplesPerUnit: 200_000 }, policy: { replication: 1, quorum: 1 } });
    const status = await client.wait(id, undefined, 200);
    expect(status.state).toBe('completed');
    expect(status.summary).toMatch(/^pi ≈ 3\.1/);
    const tasks = batchTasks(coord.dataDir, id);
    expect(tasks).toHaveLength(20);
    expect(tasks.every((t) => t.runtime === 'browser' && t.worker === volunteerKey(vol.id) && t.state === 'valid')).toBe(true);
    expect(workUnitStates(coord.dataDir, id).every((u) => u.state === 'validated')).toBe(true);
    // The page shows it too, but the records above are the proof; this checks the page works.
    await eventually(async () => (await vol.page.textContent('#tasks-done')) === '20', 5000);
    expect(vol.errors).toEqual([]);
  });

  it('cross-checks browser results against a node worker (replication 2): both contribute to every work unit', async () => {
    await startGrid();
    await grid.worker({ threads: 1 });
    await coord.waitFor('worker-joined', (e) => e.runtime === 'node');
    const vol = await openVolunteer(browser, coord.url, { threads: 1 });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(vol.id));
    // Both volunteers are on 127.0.0.1: only a local grid (TestGrid's default) counts them as independent.
    const { id } = await client.submit({
      kind: 'pi', params: { workUnits: 30, samplesPerUnit: 200_000 },
      policy: { replication: 2, quorum: 2 },
    });
    expect((await client.wait(id, undefined, 200)).state).toBe('completed');
    const units = workUnitStates(coord.dataDir, id);
    expect(units.every((u) => u.state === 'validated' && u.agreed === 2)).toBe(true);
    const tasks = batchTasks(coord.dataDir, id);
    expect(tasks.filter((t) => t.state === 'invalid')).toEqual([]);
    const valid = tasks.filter((t) => t.state === 'valid');
    // With only two volunteers and two agreeing copies per unit, every unit was computed by both.
    for (const u of units) {
      const runtimes = valid.filter((t) => t.seq === u.seq).map((t) => t.runtime).sort();
      expect(runtimes, `unit ${u.seq}`).toEqual(['browser', 'node']);
    }
  });

  it('pause stops task intake (the coordinator issues nothing more) and resume restarts it', async () => {
    await startGrid();
    const vol = await openVolunteer(browser, coord.url, { threads: 1 });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(vol.id));
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 40, samplesPerUnit: 1_500_000 }, policy: { replication: 1, quorum: 1 } });
    await eventually(() => browserTasks(id).filter((t) => DONE.has(t.state)).length >= 4, 30_000);

    await vol.page.click('#pause');
    await vol.page.waitForSelector('body[data-paused="true"]');
    await sleep(500); // the Decline is on its way; tasks already assigned come straight back
    const atPause = browserTasks(id).length;
    await sleep(2500);
    const paused = browserTasks(id);
    expect(paused).toHaveLength(atPause);
    // Nothing is out at the paused browser: queued tasks went back, the running one finished.
    expect(paused.filter((t) => t.state === 'leased')).toEqual([]);
    expect((await client.status(id)).counts.validated).toBeLessThan(40);
    // The page says so: no live rate while paused (it showed the last seconds' rate for 10 s).
    expect(await vol.page.textContent('#rate')).toBe('0.00');

    await vol.page.click('#pause'); // now labelled Resume
    await vol.page.waitForSelector('body[data-paused="false"]');
    await eventually(() => browserTasks(id).length > atPause, 10_000);
    // The units handed back at pause never return to this volunteer (the scheduler gives no
    // worker two tasks of one unit, even after it handed one back): a node worker finishes them.
    await grid.worker({ threads: 1 });
    expect((await client.wait(id, undefined, 200)).state).toBe('completed');
    expect(workUnitStates(coord.dataDir, id).every((u) => u.state === 'validated')).toBe(true);
  });

  it('closing the page mid-batch hands its tasks back (Goodbye), they are re-issued and the batch completes', async () => {
    await startGrid();
    const vol = await openVolunteer(browser, coord.url, { threads: 1 });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(vol.id));
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 40, samplesPerUnit: 1_500_000 }, policy: { replication: 1, quorum: 1 } });
    await eventually(() => {
      const tasks = browserTasks(id);
      return tasks.filter((t) => DONE.has(t.state)).length >= 3 && tasks.some((t) => t.state === 'leased');
    }, 30_000);

    await vol.page.close();
    const goodbye = await coord.waitFor('worker-goodbye', (e) => e.worker === volunteerKey(vol.id), 10_000);
    // What the tab held comes back with the Goodbye; an Assign that crossed it on the wire is
    // handed back by the coordinator at the same moment.
    const back = (goodbye.returned as number) + (goodbye.unreceived as number);
    expect(back).toBeGreaterThan(0);
    const handedBack = await eventually(() => {
      const tasks = browserTasks(id);
      return tasks.some((t) => t.state === 'leased') ? null : tasks.filter((t) => t.state === 'abandoned');
    }, 5000);
    expect(handedBack.length).toBe(back);

    // Someone else finishes the batch, including the units the tab held.
    await grid.worker({ threads: 1 });
    expect((await client.wait(id, undefined, 200)).state).toBe('completed');
    const tasks = batchTasks(coord.dataDir, id);
    for (const t of handedBack) {
      expect(tasks.some((o) => o.seq === t.seq && o.runtime === 'node' && o.state === 'valid'), `unit ${t.seq}`).toBe(true);
    }
    expect(workUnitStates(coord.dataDir, id).every((u) => u.state === 'validated')).toBe(true);
  });

  it('reconnects after the coordinator restarts and delivers what it computed meanwhile', async () => {
    grid = await new TestGrid().start();
    const dataDir = grid.tempDir('swarmgrid-coord-');
    const args = ['--http-port', String(await freePort())]; // the page reconnects to its own origin
    coord = await grid.coordinator({ dataDir, args });
    client = new GridClient({ url: coord.url, token: coord.token });
    const vol = await openVolunteer(browser, coord.url, { threads: 1 });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(vol.id));
    // Leases of 40 s: long enough for the restart, so what the tab computed meanwhile is still
    // wanted when it is resent. An Assign that crossed the kill on the wire never reached the tab;
    // its unit is re-issued when the lease runs out, to another volunteer (the node worker started
    // below: the tab itself never gets a second task of a unit).
    // Tasks of ~0.3 s, not ~10 ms: with ~10 ms tasks an Ack and a new Assign are on the wire
    // most of the time, and a clean-clone CI run killed the coordinator with all three of the
    // tab's leases in an Assign it never received (0 delivered, 3 expired).
    const { id } = await client.submit({ kind: 'pi', params: { workUnits: 14, samplesPerUnit: 20_000_000 }, policy: { replication: 1, quorum: 1, lease: 40 } });
    await eventually(() => {
      const tasks = browserTasks(id);
      return tasks.filter((t) => DONE.has(t.state)).length >= 3 && tasks.some((t) => t.state === 'leased');
    }, 30_000);

    const heldAtKill = new Set(browserTasks(id).filter((t) => t.state === 'leased').map((t) => t.id));
    await coord.stop('SIGKILL');
    await vol.page.waitForSelector('body[data-connection="offline"]', { timeout: 10_000 });
    await sleep(1000); // the tab keeps computing what it holds
    coord = await grid.coordinator({ dataDir, args });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(vol.id), 40_000);
    await grid.worker({ threads: 1 });
    // Bounded, and saying what was left where, should it not finish.
    await eventually(() => workUnitStates(coord.dataDir, id).every((u) => u.state === 'validated'), 90_000, 200).catch((err: Error) => {
      const left = batchTasks(coord.dataDir, id).filter((t) => t.state !== 'valid').map((t) => `${t.seq}:${t.state}`);
      const seen = coord.events.slice(-15).map((e) => e.event).join(', ');
      throw new Error(`${err.message}; tasks not valid: ${left.join(' ') || 'none'}; last coordinator events: ${seen}`);
    });
    const status = await new GridClient({ url: coord.url, token: coord.token }).wait(id, undefined, 200);
    expect(status.state).toBe('completed');
    const tasks = batchTasks(coord.dataDir, id);
    // What the tab held when the coordinator died came back as results after the restart (only
    // an Assign still on the wire at the kill can be lost, and it expires and is re-issued).
    const heldTasks = tasks.filter((t) => heldAtKill.has(t.id));
    const delivered = heldTasks.filter((t) => t.state === 'valid').length;
    console.log(`coordinator restart: the tab held ${heldAtKill.size} task(s); ${delivered} delivered after the restart, `
      + `${heldTasks.filter((t) => t.state === 'expired').length} expired (sent as the coordinator died)`);
    expect(delivered).toBeGreaterThan(0);
    expect(heldTasks.every((t) => t.state === 'valid' || t.state === 'expired')).toBe(true);
  }, 180_000);
});
