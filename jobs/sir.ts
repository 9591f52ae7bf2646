/**
 * The SIR epidemic model integrated with classic fourth-order Runge–Kutta at a fixed step:
 *
 *   dS/dt = −β·S·I/N    dI/dt = β·S·I/N − γ·I    dR/dt = γ·I
 *
 * Time is in days, β and γ are rates per day. Only +, −, × and ÷ on doubles (no Math.exp or
 * Math.log, whose last bits differ between engines), so every engine gives the same bits.
 *
 * The step is the requested `dt` or shorter: RK4's error grows with h·(β + γ) (the rates set the
 * fastest time scale), so h·(β + γ) is kept at or below MAX_STEP_RATE. Measured against a run
 * with 8× the steps over β, γ from 0.01 to 100 per day (N 10⁶, I0 10, 365 days): ever-infected
 * fraction within 3e-10, peak infected within 1.6e-6 relative, peak day within 0.0015 days
 * (test/jobs/ode-sweep.test.ts). With the fixed step of 0.1 day alone (version 1), β = 2.5,
 * γ = 0.5 was off by 2.4e-8 and 3.6e-5.
 */

/** Largest h·(β + γ) of a step. */
export const MAX_STEP_RATE = 0.1;

/** A run counts as still going when at least this fraction of N is infected at its end (1 in 10⁶). */
export const RUNNING_FRACTION = 1e-6;

export interface SirSetup {
  /** Population N. */
  N: number;
  /** Infected at t = 0; S(0) = N − I0, R(0) = 0. */
  I0: number;
  days: number;
  /**
   * Largest step in days; the step used is days / sirSteps(…), so the run ends exactly on `days`
   * and h·(β + γ) <= MAX_STEP_RATE.
   */
  dt: number;
}

export interface SirSummary {
  /** Largest number infected at once, refined by a parabola through the samples around the peak. */
  peakInfected: number;
  /** Time of that peak in days, refined the same way (`days` if I still rises at the end). */
  peakDay: number;
  /** Fraction of the population infected at some time up to `days`: (N − S(days)) / N. */
  everInfected: number;
  /** Fraction recovered at `days`: R(days) / N (everInfected minus those still infected). */
  recovered: number;
  /** Number infected at `days`: I(days). */
  infectedAtEnd: number;
  /** Whether the epidemic is still going at `days`: I(days) >= RUNNING_FRACTION · N. */
  running: boolean;
}

/** Steps of a run: at least days / dt, and enough that h·(β + γ) <= MAX_STEP_RATE. */
export function sirSteps(days: number, dt: number, beta = 0, gamma = 0): number {
  // The small slack keeps days = 365, dt = 0.1 at 3650 steps despite 365 / 0.1 = 3650.0000000000005.
  return Math.max(1, Math.ceil(days / dt - 1e-9), Math.ceil((days * (beta + gamma)) / MAX_STEP_RATE - 1e-9));
}

export function integrateSir(beta: number, gamma: number, setup: SirSetup): SirSummary {
  const { N, I0, days } = setup;
  const steps = sirSteps(days, setup.dt, beta, gamma);
  const h = days / steps;
  const a = beta / N;
  let S = N - I0;
  let I = I0;
  let R = 0;
  // The largest sample and its neighbours, for the parabolic refinement.
  let peakK = 0;
  let peakI = I;
  let before = I;
  let after = I;
  let prev = I;
  for (let k = 1; k <= steps; k++) {
    const k1s = -a * S * I;
    const k1i = a * S * I - gamma * I;
    const k1r = gamma * I;
    const S2 = S + 0.5 * h * k1s;
    const I2 = I + 0.5 * h * k1i;
    const k2s = -a * S2 * I2;
    const k2i = a * S2 * I2 - gamma * I2;
    const k2r = gamma * I2;
    const S3 = S + 0.5 * h * k2s;
    const I3 = I + 0.5 * h * k2i;
    const k3s = -a * S3 * I3;
    const k3i = a * S3 * I3 - gamma * I3;
    const k3r = gamma * I3;
    const S4 = S + h * k3s;
    const I4 = I + h * k3i;
    const k4s = -a * S4 * I4;
    const k4i = a * S4 * I4 - gamma * I4;
    const k4r = gamma * I4;
    S += (h / 6) * (k1s + 2 * k2s + 2 * k3s + k4s);
    I += (h / 6) * (k1i + 2 * k2i + 2 * k3i + k4i);
    R += (h / 6) * (k1r + 2 * k2r + 2 * k3r + k4r);
    if (k === peakK + 1) after = I;
    if (I > peakI) {
      peakK = k;
      peakI = I;
      before = prev;
      after = I;
    }
    prev = I;
  }
  let peakDay = peakK * h;
  let peakInfected = peakI;
  // Vertex of the parabola through (k−1, before), (k, peak), (k+1, after), when the peak is interior.
  const curvature = before - 2 * peakI + after;
  if (peakK > 0 && peakK < steps && curvature < 0) {
    const offset = (0.5 * (before - after)) / curvature;
    peakDay = (peakK + offset) * h;
    peakInfected = peakI - 0.25 * (before - after) * offset;
  }
  return { peakInfected, peakDay, everInfected: (N - S) / N, recovered: R / N, infectedAtEnd: I, running: I >= RUNNING_FRACTION * N };
}
