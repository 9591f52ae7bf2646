import { describe, expect, it } from 'vitest';
import { outputsAgree } from '../../jobs/compare.js';
import { encodeJson } from '../../jobs/codec.js';
import { odeSweep } from '../../jobs/ode-sweep.js';
import { integrateSir, sirSteps } from '../../jobs/sir.js';
import { artifactText, runBatch, runEncoded } from './helpers.js';

const setup = { N: 1_000_000, I0: 10, days: 365, dt: 0.1 };

/** Root of z = 1 − (S0/N)·exp(−R0·z) in (0, 1]: the classic SIR final-size relation. */
function finalSizeRelation(r0: number, s0: number): number {
  let z = 1;
  for (let i = 0; i < 200; i++) z = 1 - s0 * Math.exp(-r0 * z);
  return z;
}

describe('ode-sweep (SIR by RK4)', () => {
  it('matches the analytic final size and peak of the SIR model', () => {
    for (const [beta, gamma] of [[0.5, 0.1], [0.3, 0.1], [1, 0.25]] as const) {
      const r0 = beta / gamma;
      const s0 = (setup.N - setup.I0) / setup.N;
      const out = integrateSir(beta, gamma, setup);
      // These epidemics are over by day 365: everyone ever infected has recovered.
      expect(out.running).toBe(false);
      expect(out.everInfected).toBeCloseTo(finalSizeRelation(r0, s0), 6);
      expect(out.recovered).toBeCloseTo(out.everInfected, 6);
      // S + I − (N/R0)·ln S is conserved; at the peak S = N/R0.
      const peak = setup.N * (s0 + setup.I0 / setup.N - (1 + Math.log(r0 * s0)) / r0);
      expect(Math.abs(out.peakInfected - peak) / peak).toBeLessThan(3e-6); // the stated accuracy (docs/JOB-KINDS.md)
      expect(out.peakDay).toBeGreaterThan(0);
      expect(out.peakDay).toBeLessThan(setup.days);
    }
  });

  it('places the peak between samples, consistently with a finer step', () => {
    const coarse = integrateSir(0.5, 0.1, { ...setup, dt: 0.5 });
    const fine = integrateSir(0.5, 0.1, { ...setup, dt: 0.01 });
    expect(Math.abs(coarse.peakDay - fine.peakDay)).toBeLessThan(0.01);
  });

  it('does not spread when R0 < 1: the peak is day 0', () => {
    const out = integrateSir(0.05, 0.1, setup);
    expect(out.peakDay).toBe(0);
    expect(out.peakInfected).toBe(10);
    expect(out.everInfected).toBeLessThan(1e-4);
    expect(out.running).toBe(false);
  });

  it('flags an epidemic still going at the end, where recovered falls short of ever infected', () => {
    // β = 0.1, γ = 0.05 (R0 = 2) is slow: at day 365 many are still ill.
    const out = integrateSir(0.1, 0.05, setup);
    expect(out.running).toBe(true);
    expect(out.infectedAtEnd).toBeGreaterThan(1000);
    expect(out.everInfected - out.recovered).toBeCloseTo(out.infectedAtEnd / setup.N, 12);
  });

  it('holds its stated accuracy over the whole range of rates (against 8 times the steps)', () => {
    let worst = { ever: 0, peak: 0, day: 0 };
    for (const beta of [0.05, 0.3, 1, 2.5, 10, 100]) {
      for (const gamma of [0.01, 0.2, 0.5, 3, 50]) {
        const out = integrateSir(beta, gamma, setup);
        const steps = sirSteps(setup.days, setup.dt, beta, gamma);
        const ref = integrateSir(beta, gamma, { ...setup, dt: setup.days / (8 * steps) });
        worst = {
          ever: Math.max(worst.ever, Math.abs(out.everInfected - ref.everInfected)),
          peak: Math.max(worst.peak, Math.abs(out.peakInfected - ref.peakInfected) / ref.peakInfected),
          day: Math.max(worst.day, Math.abs(out.peakDay - ref.peakDay)),
        };
      }
    }
    console.log(`ode-sweep accuracy: ever infected ${worst.ever.toExponential(1)}, peak ${worst.peak.toExponential(1)} relative, peak day ${worst.day.toFixed(4)} d`);
    // docs/JOB-KINDS.md: 1e-9, 3e-6 relative, 0.002 days. Version 1 (fixed step): 2.4e-8 and 3.6e-5 at β 2.5, γ 0.5.
    expect(worst.ever).toBeLessThan(1e-9);
    expect(worst.peak).toBeLessThan(3e-6);
    expect(worst.day).toBeLessThan(0.002);
  });

  it('ends exactly on the last day, shortening dt if needed', () => {
    expect(sirSteps(365, 0.1)).toBe(3650);
    expect(sirSteps(10, 3)).toBe(4);
    // …and shorter still when the rates are fast: h·(β + γ) <= 0.1.
    expect(sirSteps(365, 0.1, 2.5, 0.5)).toBe(10950);
  });

  it('sweeps the grid beta-major into a CSV with one row per point, in order', () => {
    const params = { betaMin: 0.2, betaMax: 0.6, betaSteps: 3, gammaMin: 0.1, gammaMax: 0.4, gammaSteps: 4, days: 200, pointsPerUnit: 5 };
    const { inputs, artifact } = runBatch(odeSweep, params);
    expect(inputs.map((i) => i.points.length)).toEqual([5, 5, 2]);
    expect(artifact.contentType).toBe('text/csv');
    expect(artifact.fileName).toBe('ode-sweep.csv');
    const lines = artifactText(artifact).trimEnd().split('\n');
    expect(lines[0]).toBe('beta,gamma,R0,peakInfected,peakDay,everInfected,recovered,infectedAtEnd,running');
    expect(lines).toHaveLength(13);
    const rows = lines.slice(1).map((l) => l.split(',').map(Number));
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      [0.2, 0.1], [0.2, 0.2], [0.2, 0.30000000000000004], [0.2, 0.4],
      [0.4, 0.1], [0.4, 0.2], [0.4, 0.30000000000000004], [0.4, 0.4],
      [0.6, 0.1], [0.6, 0.2], [0.6, 0.30000000000000004], [0.6, 0.4],
    ]);
    const direct = integrateSir(0.4, 0.2, { N: 1_000_000, I0: 10, days: 200, dt: 0.1 });
    expect(rows[5]).toEqual([0.4, 0.2, 2, direct.peakInfected, direct.peakDay, direct.everInfected, direct.recovered, direct.infectedAtEnd, direct.running ? 1 : 0]);
    expect(artifact.summary).toMatch(/12 \(β, γ\) points/);
  });

  it('agrees with a result that differs in the last bits, not with one outside tolerance', () => {
    const input = { ...setup, points: [[0.5, 0.1], [0.3, 0.2]] };
    const bytes = runEncoded(odeSweep, input);
    const out = JSON.parse(new TextDecoder().decode(bytes));
    const nudged = structuredClone(out);
    nudged[0].peakInfected *= 1 + 2 ** -50;
    nudged[1].everInfected += 1e-15;
    expect(outputsAgree(odeSweep, bytes, encodeJson(nudged))).toBe(true);
    const off = structuredClone(out);
    off[0].peakDay += 1e-3;
    expect(outputsAgree(odeSweep, bytes, encodeJson(off))).toBe(false);
    expect(outputsAgree(odeSweep, bytes, encodeJson(out.slice(0, 1)))).toBe(false);
  });

  it('rejects bad inputs and params, naming the field', () => {
    expect(() => odeSweep.validateInput({ ...setup, points: [] })).toThrow(/points must be an array/);
    expect(() => odeSweep.validateInput({ ...setup, points: [[0.5, 0]] })).toThrow(/points\[0\] must be \[beta, gamma\]/);
    expect(() => odeSweep.validateInput({ ...setup, points: [[0.5]] })).toThrow(/points\[0\]/);
    expect(() => odeSweep.validateInput({ ...setup, I0: 2e6, points: [[0.5, 0.1]] })).toThrow(/I0 must be <= 1000000/);
    expect(() => odeSweep.validateInput({ ...setup, dt: 400, points: [[0.5, 0.1]] })).toThrow(/dt must be <= 365/);
    expect(() => odeSweep.validateInput({ ...setup, dt: 1e-6, points: [[0.5, 0.1]] })).toThrow(/days \/ dt must be <=/);
    expect(() => [...odeSweep.generate!({ gammaMin: 0 })]).toThrow(/gammaMin must be >=/);
    expect(() => [...odeSweep.generate!({ betaMin: 1, betaMax: 0.5 })]).toThrow(/betaMax must be >= 1/);
  });
});
