/**
 * The volunteer page must not spend the CPU it is donating on itself. With software compositing
 * (--disable-gpu here, as on VMs and blocklisted GPUs) every repaint is rasterised on the CPU,
 * and a page that re-rendered per task took up to a core from its workers (issue 13). Asserted on
 * what costs frames: DOM writes per second while thousands of tiny tasks complete, and animations
 * that never end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { type CoordinatorProcess, TestGrid } from '../helpers/grid.js';
import { volunteerKey } from '../../coordinator/websocket-channel.js';
import { hasChromium, INSTALL_HINT, launchChromium, openVolunteer, sleep } from './chromium.js';

if (!hasChromium) console.warn(INSTALL_HINT);

describe.skipIf(!hasChromium)('the volunteer page, cost of its own rendering', () => {
  let browser: Browser;
  let grid: TestGrid;
  let coord: CoordinatorProcess;

  beforeAll(async () => {
    browser = await launchChromium();
    grid = await new TestGrid().start();
    coord = await grid.coordinator();
  });
  afterAll(async () => {
    await browser?.close();
    await grid?.close();
  });

  it('renders on a clock (at most ~4 DOM updates a second however many tasks finish), runs no endless animation while working, and holds more than 2 short tasks per core', async () => {
    const vol = await openVolunteer(browser, coord.url, { threads: 2 });
    await coord.waitFor('worker-joined', (e) => e.worker === volunteerKey(vol.id));
    // Count the mutation-observer deliveries: one per turn of DOM writes (a render), however many
    // nodes it touched. The batch is far larger than the measurement and is cancelled after it.
    await vol.page.evaluate(`(() => {
      window.__renders = 0;
      new MutationObserver(() => { window.__renders++; }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    })()`);
    const client = new GridClient({ url: coord.url, token: coord.token });
    const { id } = await client.submit({ kind: 'echo', params: { workUnits: 100_000, payloadBytes: 16 }, policy: { replication: 1, quorum: 1 } });
    await vol.page.waitForSelector('body[data-working="true"]', { timeout: 20_000 });
    const endless = await vol.page.evaluate<string[]>(`document.getAnimations()
      .filter((a) => a.playState === 'running' && a.effect && a.effect.getComputedTiming().iterations === Infinity)
      .map((a) => (a.animationName || 'animation') + ' on ' + (a.effect.target ? a.effect.target.className || a.effect.target.tagName : '?'))`);
    expect(endless, 'endless animations while working').toEqual([]);

    const read = () => vol.page.evaluate<{ renders: number; done: number }>(`({ renders: window.__renders, done: Number(document.getElementById('tasks-done').textContent.replace(/,/g, '')) })`);
    const before = await read();
    const t0 = Date.now();
    let maxHeld = 0;
    while (Date.now() - t0 < 3000) {
      await sleep(250);
      const queue = (await vol.page.textContent('#queue')) ?? '';
      maxHeld = Math.max(maxHeld, Number(/^(\d+) held/.exec(queue)?.[1] ?? 0));
    }
    const after = await read();
    const seconds = (Date.now() - t0) / 1000;
    const rendersPerSecond = (after.renders - before.renders) / seconds;
    const tasksPerSecond = (after.done - before.done) / seconds;
    console.log(`page: ${rendersPerSecond.toFixed(1)} DOM updates/s while ${tasksPerSecond.toFixed(0)} tasks/s completed; up to ${maxHeld} tasks held for 2 cores`);
    // The measurement means something only if tasks finished much faster than the clock.
    expect(tasksPerSecond).toBeGreaterThan(20);
    expect(rendersPerSecond).toBeLessThanOrEqual(6);
    expect(rendersPerSecond).toBeGreaterThan(0.5); // it does still show progress
    // Prefetch follows task time: tasks this short are held 25 ms of work per core (at most 64),
    // not the fixed 2 per core of before, so the round trip to the coordinator never idles a core.
    expect(maxHeld).toBeGreaterThan(2 * 2);
    expect((await client.cancel(id)).state).toBe('cancelled');
    expect(vol.errors).toEqual([]);
  });
});
