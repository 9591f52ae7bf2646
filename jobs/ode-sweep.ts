import { integrateSir, MAX_STEP_RATE, sirSteps, type SirSetup, type SirSummary } from './sir.js';
import type { Json, JobKind } from './types.js';
import { asObject, intField, numField } from './validate.js';

/** One work unit: a short run of (β, γ) points sharing N, I0, days and dt. */
export interface OdeSweepInput extends SirSetup {
  points: [beta: number, gamma: number][];
}

/** One summary per point, in input order. */
export type OdeSweepOutput = SirSummary[];

interface OdeSweepAcc {
  lines: string[];
  points: number;
  /** The point with the largest share ever infected, for the summary line. */
  worst: { beta: number; gamma: number; everInfected: number } | null;
  /** Points whose epidemic is still going at the end of the run. */
  running: number;
}

export interface OdeSweepParams extends SirSetup {
  betaMin: number;
  betaMax: number;
  betaSteps: number;
  gammaMin: number;
  gammaMax: number;
  gammaSteps: number;
  pointsPerUnit: number;
}

const MAX_POINTS_PER_UNIT = 10_000;
const MAX_STEPS = 10_000_000;
/** RK4 steps × points one work unit may ask for (a few seconds of one core). */
const MAX_WORK = 200_000_000;
/** Largest β or γ, per day: with h·(β + γ) <= MAX_STEP_RATE a year takes at most 7.3 million steps. */
const MAX_RATE = 1000;
const CSV_HEADER = 'beta,gamma,R0,peakInfected,peakDay,everInfected,recovered,infectedAtEnd,running';

export const odeSweep: JobKind<OdeSweepInput, OdeSweepOutput, OdeSweepAcc> = {
  name: 'ode-sweep',
  // 2.0.0: the step shrinks with β + γ so the stated accuracy holds over the whole range; the
  // output names what it measures (everInfected, recovered, infectedAtEnd) and flags runs still going.
  version: '2.0.0',
  description: 'SIR epidemic model integrated by RK4 over a β × γ grid: peak infected, day of peak, share ever infected and whether the epidemic is still running, per point, as CSV.',
  output: 'json',
  // Every engine computes the same bits (see sir.ts), so this tolerance only forgives a future
  // implementation that reorders arithmetic; 1e-9 relative is far below the RK4 error itself.
  comparator: { type: 'tolerance', abs: 1e-9, rel: 1e-9 },
  params: [
    { name: 'betaMin', type: 'number', default: 0.1, description: 'smallest transmission rate β (per day)' },
    { name: 'betaMax', type: 'number', default: 1, description: 'largest β' },
    { name: 'betaSteps', type: 'integer', default: 10, description: 'number of β values, evenly spaced, ends included' },
    { name: 'gammaMin', type: 'number', default: 0.05, description: 'smallest recovery rate γ (per day, > 0)' },
    { name: 'gammaMax', type: 'number', default: 0.5, description: 'largest γ' },
    { name: 'gammaSteps', type: 'integer', default: 10, description: 'number of γ values, evenly spaced, ends included' },
    { name: 'N', type: 'number', default: 1_000_000, description: 'population' },
    { name: 'I0', type: 'number', default: 10, description: 'infected at day 0 (0 < I0 <= N)' },
    { name: 'days', type: 'number', default: 365, description: 'length of the simulation in days' },
    { name: 'dt', type: 'number', default: 0.1, description: 'RK4 step in days (shortened so that days is a whole number of steps)' },
    { name: 'pointsPerUnit', type: 'integer', default: 10, description: 'grid points per work unit' },
  ],

  validateInput(input: unknown): OdeSweepInput {
    const obj = asObject(input, 'ode-sweep input');
    const setup = validateSetup(obj);
    const raw = obj['points'];
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_POINTS_PER_UNIT) {
      throw new Error(`points must be an array of 1 to ${MAX_POINTS_PER_UNIT} [beta, gamma] pairs`);
    }
    const points = raw.map((p, i): [number, number] => {
      const [beta, gamma] = Array.isArray(p) && p.length === 2 ? p : [NaN, NaN];
      if (!isRate(beta) || !isRate(gamma) || gamma === 0) {
        throw new Error(`points[${i}] must be [beta, gamma] with 0 <= beta <= ${MAX_RATE} and 0 < gamma <= ${MAX_RATE}`);
      }
      return [beta, gamma];
    });
    let work = 0;
    for (const [beta, gamma] of points) {
      const steps = sirSteps(setup.days, setup.dt, beta, gamma);
      if (steps > MAX_STEPS) throw new Error(`days × (beta + gamma) / ${MAX_STEP_RATE} must be <= ${MAX_STEPS} steps`);
      work += steps;
    }
    if (work > MAX_WORK) throw new Error(`the points' RK4 steps must total <= ${MAX_WORK}`);
    return { ...setup, points };
  },

  run({ points, ...setup }: OdeSweepInput): OdeSweepOutput {
    return points.map(([beta, gamma]) => integrateSir(beta, gamma, setup));
  },

  *generate(params: Json): Iterable<OdeSweepInput> {
    const p = resolveOdeSweepParams(params);
    const { N, I0, days, dt } = p;
    let points: [number, number][] = [];
    for (let i = 0; i < p.betaSteps; i++) {
      const beta = linspace(p.betaMin, p.betaMax, p.betaSteps, i);
      for (let j = 0; j < p.gammaSteps; j++) {
        points.push([beta, linspace(p.gammaMin, p.gammaMax, p.gammaSteps, j)]);
        if (points.length === p.pointsPerUnit) {
          yield { N, I0, days, dt, points };
          points = [];
        }
      }
    }
    if (points.length > 0) yield { N, I0, days, dt, points };
  },

  reducer: {
    init: () => ({ lines: [CSV_HEADER], points: 0, worst: null, running: 0 }),
    add(acc, output, input) {
      if (output.length !== input.points.length) throw new Error(`ode-sweep result has ${output.length} rows for ${input.points.length} points`);
      output.forEach((s, i) => {
        const [beta, gamma] = input.points[i]!;
        acc.lines.push([beta, gamma, beta / gamma, s.peakInfected, s.peakDay, s.everInfected, s.recovered, s.infectedAtEnd, s.running ? 1 : 0].map(String).join(','));
        if (acc.worst === null || s.everInfected > acc.worst.everInfected) acc.worst = { beta, gamma, everInfected: s.everInfected };
        if (s.running) acc.running++;
      });
      acc.points += output.length;
      return acc;
    },
    finish(acc) {
      const worst = acc.worst
        ? `; largest share ever infected ${(100 * acc.worst.everInfected).toFixed(1)}% at β=${acc.worst.beta}, γ=${acc.worst.gamma}`
        : '';
      const running = acc.running > 0 ? `; ${acc.running} still running at the end (see the running column)` : '';
      return {
        contentType: 'text/csv',
        fileName: 'ode-sweep.csv',
        bytes: new TextEncoder().encode(acc.lines.join('\n') + '\n'),
        summary: `SIR sweep of ${acc.points} (β, γ) points${worst}${running}`,
      };
    },
  },
};

/** Batch params with defaults, checked once. */
export function resolveOdeSweepParams(params: Json): OdeSweepParams {
  const obj = asObject(params ?? {}, 'ode-sweep params');
  const betaMin = numField(obj, 'betaMin', { min: 0, max: MAX_RATE, default: 0.1 });
  const gammaMin = numField(obj, 'gammaMin', { min: Number.MIN_VALUE, max: MAX_RATE, default: 0.05 });
  const betaSteps = intField(obj, 'betaSteps', { min: 1, max: 1_000_000, default: 10 });
  const gammaSteps = intField(obj, 'gammaSteps', { min: 1, max: 1_000_000, default: 10 });
  const setup = validateSetup(obj, { N: 1_000_000, I0: 10, days: 365, dt: 0.1 });
  const pointsPerUnit = intField(obj, 'pointsPerUnit', { min: 1, max: MAX_POINTS_PER_UNIT, default: 10 });
  const betaMax = numField(obj, 'betaMax', { min: betaMin, max: MAX_RATE, default: Math.max(1, betaMin) });
  const gammaMax = numField(obj, 'gammaMax', { min: gammaMin, max: MAX_RATE, default: Math.max(0.5, gammaMin) });
  // The costliest point sets the bounds: steps grow with β + γ.
  const steps = sirSteps(setup.days, setup.dt, betaMax, gammaMax);
  if (steps > MAX_STEPS) throw new Error(`days × (betaMax + gammaMax) / ${MAX_STEP_RATE} must be <= ${MAX_STEPS} steps`);
  if (pointsPerUnit * steps > MAX_WORK) throw new Error(`pointsPerUnit × RK4 steps per point (${steps} at betaMax, gammaMax) must be <= ${MAX_WORK}`);
  return { betaMin, betaMax, betaSteps, gammaMin, gammaMax, gammaSteps, ...setup, pointsPerUnit };
}

function validateSetup(obj: Record<string, unknown>, defaults: Partial<SirSetup> = {}): SirSetup {
  const N = numField(obj, 'N', { min: 1, max: 1e15, default: defaults.N });
  const I0 = numField(obj, 'I0', { min: Number.MIN_VALUE, max: N, default: defaults.I0 });
  const days = numField(obj, 'days', { min: Number.MIN_VALUE, max: 1e6, default: defaults.days });
  const dt = numField(obj, 'dt', { min: Number.MIN_VALUE, max: days, default: defaults.dt });
  if (sirSteps(days, dt) > MAX_STEPS) throw new Error(`days / dt must be <= ${MAX_STEPS} steps`);
  return { N, I0, days, dt };
}

/** The i-th of n evenly spaced values from lo to hi, ends included (exactly hi at the end). */
function linspace(lo: number, hi: number, n: number, i: number): number {
  if (n === 1) return lo;
  return i === n - 1 ? hi : lo + ((hi - lo) * i) / (n - 1);
}

function isRate(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= MAX_RATE;
}
