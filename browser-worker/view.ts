/**
 * Renders the agent's state into the page (plain DOM, no framework). Only text and attributes
 * are written, never HTML: nothing the coordinator sends can become markup.
 */
import type { AgentSnapshot } from './agent.js';
import type { BatchProgress } from './batch-watch.js';

/** Friendly names for the built-in job kinds; unknown kinds show their own name. */
const KIND_TITLES: Record<string, string> = {
  pi: 'Estimating π by Monte Carlo',
  primes: 'Counting prime numbers',
  mandelbrot: 'Rendering the Mandelbrot set',
  'ode-sweep': 'Sweeping an epidemic model',
  'hp-fold': 'Folding proteins (HP model)',
  echo: 'Echo test tasks',
};

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/**
 * Writes only what changed: an unchanged value written again still dirties style and layout,
 * and a repaint costs CPU the volunteer donated (software compositing rasterises on the CPU).
 */
function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

function setAttr(node: HTMLElement, name: string, value: string): void {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

function setData(node: HTMLElement, key: string, value: string): void {
  if (node.dataset[key] !== value) node.dataset[key] = value;
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

export class VolunteerView {
  #cores = el('cores');

  constructor(volunteerId: string) {
    el('volunteer-id').textContent = `${volunteerId.slice(0, 8)}…${volunteerId.slice(-4)}`;
    el('volunteer-id').title = volunteerId;
  }

  render(s: AgentSnapshot, batch: BatchProgress | null): void {
    const body = document.body;
    setData(body, 'connection', s.connection);
    setData(body, 'paused', String(s.paused));
    const working = s.connection === 'connected' && !s.paused && s.busy.some(Boolean);
    setData(body, 'working', String(working));

    setText(el('connection'), s.paused ? 'Paused'
      : s.connection === 'connected' ? 'Connected'
      : s.connection === 'connecting' ? 'Connecting…'
      : s.connection === 'offline' ? 'Offline' : 'Disconnected');

    this.#headline(s, working);
    this.#progress(s, batch);

    setText(el('tasks-done'), s.tasksDone.toLocaleString('en-US'));
    setText(el('cpu-time'), formatDuration(s.cpuMs));
    // Paused takes nothing: the rate of the last seconds before the pause is no live rate.
    const rate = s.paused ? 0 : s.ratePerSecond;
    setText(el('rate'), rate.toFixed(rate >= 10 ? 1 : 2));
    setText(el('cores-busy'), `${s.busy.filter(Boolean).length} / ${s.threads}`);
    this.#renderCores(s.busy);

    const pause = el<HTMLButtonElement>('pause');
    setText(pause, s.paused ? 'Resume' : 'Pause');
    setAttr(pause, 'aria-pressed', String(s.paused));
    setText(el('coordinator-key'), s.coordinatorKey ? `${s.coordinatorKey.slice(0, 8)}…${s.coordinatorKey.slice(-4)}` : '—');
    setAttr(el('coordinator-key'), 'title', s.coordinatorKey);
    setText(el('queue'), `${s.held} held · ${s.unacked} unconfirmed`);
    setAttr(el('queue'), 'title', 'tasks held by this tab (queued or running) · results sent but not yet stored by the coordinator');
  }

  #headline(s: AgentSnapshot, working: boolean): void {
    let headline: string;
    let sub: string;
    if (s.connection === 'offline') {
      const wait = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
      headline = 'Offline — reconnecting';
      sub = `Trying again in ${wait} s.${s.lastError ? ` Last error: ${s.lastError}` : ''} Results computed meanwhile are kept and sent when the connection is back.`;
    } else if (s.connection !== 'connected') {
      headline = 'Connecting to the grid…';
      sub = 'This page talks only to the coordinator that served it.';
    } else if (s.paused) {
      headline = 'Paused';
      sub = s.busy.some(Boolean) ? 'Finishing the tasks already running; no new ones will be taken.' : 'Your CPU is all yours. Resume whenever you like.';
    } else if (working && s.current) {
      headline = KIND_TITLES[s.current.kind] ?? `Running ${s.current.kind}`;
      sub = `Batch ${s.current.batchId.slice(0, 12)} · job kind ${s.current.kind}. Every result is cross-checked by other volunteers.`;
    } else {
      headline = 'Waiting for work';
      sub = 'No tasks for browsers right now. Keep this tab open: work starts as soon as a batch arrives.';
    }
    setText(el('headline'), headline);
    setText(el('subline'), sub);
  }

  #progress(s: AgentSnapshot, batch: BatchProgress | null): void {
    const box = el('batch-progress');
    if (!batch || s.connection !== 'connected') {
      if (!box.hidden) box.hidden = true;
      return;
    }
    if (box.hidden) box.hidden = false;
    const pct = Math.round(batch.progress * 1000) / 10;
    const width = `${Math.min(100, pct)}%`;
    if (el('batch-fill').style.width !== width) el('batch-fill').style.width = width;
    setText(el('batch-label'), batch.state === 'completed' && batch.summary
      ? `Batch done: ${batch.summary}`
      : `${batch.validated.toLocaleString('en-US')} of ${batch.total.toLocaleString('en-US')} work units verified`
        + (batch.etaSeconds === null ? '' : batch.etaSeconds < 1 ? ' · almost done' : ` · about ${formatDuration(Math.round(batch.etaSeconds) * 1000).replace('.0 s', ' s')} left`));
    setText(el('batch-percent'), `${pct.toFixed(pct < 10 ? 1 : 0)}%`);
  }

  #renderCores(busy: boolean[]): void {
    while (this.#cores.children.length < busy.length) {
      const core = document.createElement('span');
      core.className = 'core';
      this.#cores.append(core);
    }
    while (this.#cores.children.length > busy.length) this.#cores.lastElementChild!.remove();
    busy.forEach((b, i) => {
      const core = this.#cores.children[i]!;
      if (core.classList.contains('busy') !== b) core.classList.toggle('busy', b);
    });
  }
}
