/**
 * Chromium driven over the raw DevTools protocol, for what Playwright hides: Playwright launches
 * Chromium with --disable-background-timer-throttling, --disable-renderer-backgrounding and
 * --disable-backgrounding-occluded-windows, and its pages stay "visible" whatever is in front of
 * them. A volunteer's real tab is hidden behind others and throttled. Here Chromium runs with
 * its defaults, tabs share one window (a tab opened in front hides the others, as for a person),
 * and intensive wake-up throttling (timers at most once a minute) starts after 10 s hidden
 * instead of Chrome's 5 minutes, so that a test sees it in seconds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { CHROMIUM } from './chromium.js';

/** Chrome's grace period before intensive throttling, shortened for tests (Chrome: 300 s). */
export const INTENSIVE_THROTTLING_AFTER_S = 10;

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

export class CdpChromium {
  #proc: ChildProcess;
  #ws: WebSocket;
  #dir: string;
  #next = 0;
  #pending = new Map<number, Pending>();

  private constructor(proc: ChildProcess, ws: WebSocket, dir: string) {
    this.#proc = proc;
    this.#ws = ws;
    this.#dir = dir;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result ?? {});
    });
  }

  static async launch(): Promise<CdpChromium> {
    const dir = mkdtempSync(join(tmpdir(), 'swarmgrid-chromium-'));
    const proc = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--remote-debugging-port=0', `--user-data-dir=${dir}`,
      `--enable-features=IntensiveWakeUpThrottling:grace_period_seconds/${INTENSIVE_THROTTLING_AFTER_S}`, 'about:blank'],
    // Its own process group, so that close() takes the renderers and helpers along.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`Chromium did not start: ${text.slice(-500)}`)), 30_000);
      proc.stderr!.on('data', (chunk: Buffer) => {
        text += chunk;
        const m = /DevTools listening on (ws:\S+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      proc.once('exit', (code) => reject(new Error(`Chromium exited with ${code}: ${text.slice(-500)}`)));
    });
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new CdpChromium(proc, ws, dir);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params, sessionId }));
    });
  }

  /** Opens a tab in the browser's one window, in front of the others. */
  async openTab(url: string): Promise<CdpTab> {
    const { targetId } = await this.send('Target.createTarget', { url, newWindow: false }) as { targetId: string };
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
    return new CdpTab(this, sessionId);
  }

  async close(): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) {
      const exited = new Promise((r) => this.#proc.once('exit', r));
      // Politely first (Chromium flushes its profile and ends its children), then the whole group.
      await Promise.race([this.send('Browser.close').catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
      const timer = setTimeout(() => {
        try {
          process.kill(-this.#proc.pid!, 'SIGKILL');
        } catch { /* gone already */ }
      }, 3000);
      await exited;
      clearTimeout(timer);
    }
    this.#ws.close();
    try {
      process.kill(-this.#proc.pid!, 'SIGKILL'); // stragglers of the group, if any
    } catch { /* none left */ }
    // A helper that outlived the group may still be writing its last file: retry for a while.
    rmSync(this.#dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 });
  }
}

export class CdpTab {
  constructor(readonly browser: CdpChromium, readonly sessionId: string) {}

  /** The value of a JavaScript expression in the page (a string: this file has no DOM types). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.browser.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, this.sessionId) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    return r.result.value as T;
  }
}
