/** Exact results of the 2D Ising model on the infinite square lattice (J = 1, k_B = 1). */

/** Critical temperature 2 / ln(1 + √2) ≈ 2.269185. */
export const ISING_TC = 2 / Math.log(1 + Math.SQRT2);

function agm(a: number, b: number): number {
  for (let i = 0; i < 64 && Math.abs(a - b) > 1e-16 * a; i++) [a, b] = [(a + b) / 2, Math.sqrt(a * b)];
  return a;
}

/**
 * Onsager's internal energy per spin, u = −coth 2K [1 + (2/π)(2 tanh² 2K − 1) K₁(k)],
 * K = 1/T, k = 2 sinh 2K / cosh² 2K, K₁ the complete elliptic integral of the first kind
 * (π / (2 AGM(1, √(1 − k²)))).
 */
export function onsagerEnergy(T: number): number {
  const K = 1 / T;
  const k = (2 * Math.sinh(2 * K)) / Math.cosh(2 * K) ** 2;
  const K1 = Math.PI / (2 * agm(1, Math.sqrt(1 - k * k)));
  return -(1 / Math.tanh(2 * K)) * (1 + (2 / Math.PI) * (2 * Math.tanh(2 * K) ** 2 - 1) * K1);
}

/** Yang's spontaneous magnetisation per spin, (1 − sinh(2/T)^−4)^(1/8) below Tc, 0 above. */
export function yangMagnetisation(T: number): number {
  return T >= ISING_TC ? 0 : (1 - Math.sinh(2 / T) ** -4) ** (1 / 8);
}
