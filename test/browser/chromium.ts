/**
 * Test helpers for the browser volunteer: Debian's Chromium driven by playwright-core (no browser
 * download: `npx playwright install` cannot reach its CDN here), a volunteer page per fresh
 * context (fresh localStorage = a fresh volunteer identity), and queries on the coordinator's
 * records, which are what the tests assert on.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { openStore } from '../helpers/sqlite.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const INSTALL_HINT = `browser volunteer tests skipped: no Chromium at ${CHROMIUM}. Install it with: apt-get update && apt-get install -y chromium`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

export interface VolunteerPage {
  context: BrowserContext;
  page: Page;
  /** Messages the page logged as errors (CSP violations included): a clean page logs none. */
  errors: string[];
  /** The volunteer's identity key, as the page keeps it. */
  id: string;
}

/** Opens the coordinator's page in a fresh context and waits until it is connected. */
export async function openVolunteer(browser: Browser, url: string, opts: { threads?: number } = {}): Promise<VolunteerPage> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/${opts.threads ? `?threads=${opts.threads}` : ''}`);
  await page.waitForSelector('body[data-connection="connected"]', { timeout: 20_000 });
  // A string, not a function: this file is compiled without the DOM lib.
  const id = await page.evaluate<string>("localStorage.getItem('swarmgrid.volunteer.id') ?? ''");
  return { context, page, errors, id };
}

export interface TaskRow {
  id: number;
  seq: number;
  worker: string;
  runtime: 'node' | 'browser';
  state: string;
  issued_at: number;
}

/** Every task of a batch, from the coordinator's SQLite file (read-only, WAL: safe while it runs). */
export function batchTasks(dataDir: string, batchId: string): TaskRow[] {
  const db = openStore(dataDir);
  try {
    return db.prepare(`SELECT t.id, w.seq, t.worker, t.runtime, t.state, t.issued_at FROM tasks t
      JOIN work_units w ON w.id = t.wu_id WHERE w.batch_id = ? ORDER BY t.id`).all(batchId) as TaskRow[];
  } finally {
    db.close();
  }
}

export function workUnitStates(dataDir: string, batchId: string): { seq: number; state: string; agreed: number }[] {
  const db = openStore(dataDir);
  try {
    return db.prepare('SELECT seq, state, agreed FROM work_units WHERE batch_id = ? ORDER BY seq').all(batchId) as { seq: number; state: string; agreed: number }[];
  } finally {
    db.close();
  }
}

/** Tasks whose result is in (returned, then judged valid or invalid). */
export const DONE = new Set(['returned', 'valid', 'invalid']);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port free right now on 127.0.0.1 (for a coordinator that must come back on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
