/**
 * The SIR epidemic model integrated with classic fourth-order Runge–Kutta at a fixed step:
 *
 *   dS/dt = −β·S·I/N    dI/dt = β·S·I/N − γ·I    dR/dt = γ·I
 *
 * Time is in days, β and γ are rates per day. Only +, −, × and ÷ on doubles (no Math.exp or
 * Math.log, whose last bits differ between engines), so every engine gives the same bits.
 */

export interface SirSetup {
  /** Population N. */
  N: number;
  /** Infected at t = 0; S(0) = N − I0, R(0) = 0. */
  I0: number;
  days: number;
  /** Requested step; the step used is days / ceil(days / dt), so the run ends exactly on `days`. */
  dt: number;
}

export interface SirSummary {
  /** Largest number infected at once, refined by a parabola through the samples around the peak. */
  peakInfected: number;
  /** Time of that peak in days, refined the same way. */
  peakDay: number;
  /** Fraction of the population ever infected: R(days) / N. */
  finalSize: number;
}

export function sirSteps(days: number, dt: number): number {
  // The small slack keeps days = 365, dt = 0.1 at 3650 steps despite 365 / 0.1 = 3650.0000000000005.
  return Math.max(1, Math.ceil(days / dt - 1e-9));
}

export function integrateSir(beta: number, gamma: number, setup: SirSetup): SirSummary {
  const { N, I0, days } = setup;
  const steps = sirSteps(days, setup.dt);
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
  return { peakInfected, peakDay, finalSize: R / N };
}
