/**
 * Payloads beyond a frame with the browser volunteer (issue 12, case 1): Debian's Chromium on the
 * coordinator's page is the only volunteer; inputs and outputs of 9,000,000 bytes travel as
 * blobs over its WebSocket, hashed with WebCrypto, and come back byte for byte.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { GridClient } from '../../coordinator/client/grid-client.js';
import { TestGrid } from '../helpers/grid.js';
import { openStore } from '../helpers/sqlite.js';
import { batchTasks, hasChromium, INSTALL_HINT, launchChromium, openVolunteer } from './chromium.js';
import { volunteerKey } from '../../coordinator/websocket-channel.js';

if (!hasChromium) console.warn(INSTALL_HINT);

describe.skipIf(!hasChromium)('the browser volunteer and payloads beyond a frame', () => {
  let browser: Browser;
  let grid: TestGrid;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const context of browser.contexts()) await context.close();
    await grid?.close();
  });

  it('computes echo units of 9,000,000 bytes: inputs fetched and outputs sent as blobs, no frame ever over the cap', async () => {
    grid = await new TestGrid().start();
    const coord = await grid.coordinator();
    const client = new GridClient({ url: coord.url, token: coord.token, timeoutMs: 120_000 });
    // Submitted before the page opens: generating 18 MB of inputs keeps the coordinator busy for
    // seconds, long enough under load for a page's heartbeat to give up on it.
    const { id } = await client.submit({ kind: 'echo', params: { workUnits: 2, payloadBytes: 9_000_000 }, policy: { replication: 1, quorum: 1 } });
    const vol = await openVolunteer(browser, coord.url, { threads: 1 });
    const status = await Promise.race([client.wait(id, undefined, 200), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('not done')), 100_000))])
      .catch(async (err: unknown) => {
        // Say what was left where, if it does not finish.
        console.log(coord.events.filter((e) => e.event !== 'http').map((e) => JSON.stringify(e).slice(0, 300)).join('\n'), vol.errors);
        console.log(JSON.stringify(batchTasks(coord.dataDir, id)));
        throw err;
      });
    expect(status.state).toBe('completed');
    const tasks = batchTasks(coord.dataDir, id).filter((t) => t.state === 'valid');
    expect(tasks).toHaveLength(2);
    expect(tasks.every((t) => t.runtime === 'browser')).toBe(true);
    const db = openStore(coord.dataDir);
    try {
      const rows = db.prepare(`SELECT w.input AS input, t.output AS output FROM work_units w JOIN tasks t ON t.id = w.canonical_task WHERE w.batch_id = ?`).all(id) as { input: Buffer; output: Buffer }[];
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(Buffer.compare(r.input, r.output)).toBe(0);
    } finally {
      db.close();
    }
    // No frame was ever refused for its size, on either side. (A loaded machine may still cost a
    // reconnect or two: a page whose heartbeat goes unanswered for a period redials, and its
    // held work survives that; what must never happen is a frame over the cap, which loops.)
    const joins = coord.events.filter((e) => e.event === 'worker-joined' && e.worker === volunteerKey(vol.id)).length;
    console.log(`browser sessions over the batch: ${joins}`);
    // The page names every error it drops a socket for in an Error frame (logged as worker-error).
    expect(coord.events.filter((e) => e.code === 'GRID_ERR_FRAME_TOO_LARGE' || e.event === 'worker-error')).toEqual([]);
    expect(await vol.page.evaluate<string>('document.body.innerText')).not.toMatch(/FRAME_TOO_LARGE/);
    expect(vol.errors).toEqual([]);
  }, 180_000);
});
