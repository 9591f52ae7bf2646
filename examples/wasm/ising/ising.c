/*
 * 2D Ising model on a periodic L x L square lattice (J = 1, no field, k_B = 1), Metropolis
 * single-spin flips in typewriter order. One run = one temperature and one seed: `therm`
 * thermalisation sweeps from a cold start (all spins up), then `sweeps` measurement sweeps,
 * measuring after each. Prints one JSON object:
 *
 *   {"L":..,"T":..,"seed":..,"sweeps":..,"absM":<|m|>,"absMErr":..,"e":<E/N>,"eErr":..,
 *    "c":<specific heat per spin>,"cErr":..,"acceptance":..}
 *
 * Errors are one standard error from `bins` equal bins of consecutive sweeps (bins long compared
 * with the autocorrelation time make them independent); c's error is a jackknife over the bins.
 *
 * A swarmgrid WASM job kind (WASI preview 1 command): parameters arrive as argv `key=value`
 * (argv[0] is the kind's name); the JSON input on stdin is not needed. Exit 2 with a message on
 * stderr for bad parameters. Deterministic by construction: integer PRNG, and the only
 * transcendental function (exp) is computed here from + - * / so that a native build and every
 * WebAssembly engine give the same bytes.
 *
 * Build: examples/wasm/build.sh. Native: gcc -O2 -ffp-contract=off ising.c -o ising
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG: xoshiro128** (Blackman & Vigna), seeded by splitmix32 from (seed). ---- */
typedef struct { uint32_t s0, s1, s2, s3; } Rng;

static inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static inline uint32_t next_u32(Rng *r) {
  uint32_t result = rotl(r->s1 * 5u, 7) * 9u;
  uint32_t t = r->s1 << 9;
  r->s2 ^= r->s0;
  r->s3 ^= r->s1;
  r->s1 ^= r->s2;
  r->s0 ^= r->s3;
  r->s2 ^= t;
  r->s3 = rotl(r->s3, 11);
  return result;
}

/* splitmix32 (Mulberry-style finaliser): spreads a small integer seed over 128 state bits. */
static uint32_t splitmix32(uint32_t *x) {
  uint32_t z = (*x += 0x9e3779b9u);
  z = (z ^ (z >> 16)) * 0x85ebca6bu;
  z = (z ^ (z >> 13)) * 0xc2b2ae35u;
  return z ^ (z >> 16);
}

static Rng seed_rng(uint32_t seed) {
  uint32_t x = seed;
  Rng r;
  r.s0 = splitmix32(&x);
  r.s1 = splitmix32(&x);
  r.s2 = splitmix32(&x);
  r.s3 = splitmix32(&x);
  if ((r.s0 | r.s1 | r.s2 | r.s3) == 0) r.s0 = 1; /* never all zero */
  return r;
}

/* exp(x) for x <= 0 from + - * / only: halve x until |x| < 2^-10, Taylor to 8 terms (error
 * below 1e-30 there), square back. Relative error ~1e-15 for |x| <= 100, identical everywhere. */
static double det_exp(double x) {
  int halvings = 0;
  while (x < -0.0009765625) { x *= 0.5; halvings++; }
  double term = 1.0, sum = 1.0;
  for (int k = 1; k <= 8; k++) { term = term * x / k; sum += term; }
  while (halvings-- > 0) sum *= sum;
  return sum;
}

/* One Metropolis sweep in typewriter order; returns the number of accepted flips. A function of
 * its own, never inlined: WebAssembly engines compile a module quickly first and optimise a hot
 * function for its *next* call (V8 cannot replace a running frame), so a sweep loop inside main()
 * would run the whole job in the unoptimised code.
 *
 * Branch-free acceptance: a random number is drawn at every site and the flip decided by
 * arithmetic. Whether a flip is accepted is a coin toss the branch predictor cannot learn; with a
 * branch (drawing only when the energy rises) gcc's native code was ~5 % faster and V8's
 * WebAssembly ~25 % slower than this (BENCHMARKS.md, "WASM kernel"). */
__attribute__((noinline)) static int metropolis_sweep(int8_t *s, int L, uint32_t accept4, uint32_t accept8, Rng *rng) {
  /* The generator's state in locals for the sweep: stores to the int8_t lattice may alias any
   * memory as far as C is concerned, so state left in memory would be reloaded at every site. */
  Rng r = *rng;
  int accepted = 0;
  for (int y = 0; y < L; y++) {
    int8_t *row = s + y * L;
    const int8_t *up = s + (y == 0 ? L - 1 : y - 1) * L, *down = s + (y == L - 1 ? 0 : y + 1) * L;
    for (int x = 0; x < L; x++) {
      int left = x == 0 ? L - 1 : x - 1, right = x == L - 1 ? 0 : x + 1;
      int sx = row[x];
      /* Half the energy change of flipping this spin, in units of J: -4, -2, 0, 2 or 4. */
      int h = sx * (row[left] + row[right] + up[x] + down[x]);
      uint32_t u = next_u32(&r);
      int flip = (h <= 0) | (u < (h == 2 ? accept4 : accept8));
      row[x] = (int8_t)(sx - 2 * sx * flip);
      accepted += flip;
    }
  }
  *rng = r;
  return accepted;
}

/* Magnetisation (sum of spins) and the sum over bonds of s_i s_j, each bond once (right and
 * down neighbours): the energy is -bond. Not inlined, for the same reason. */
__attribute__((noinline)) static void measure(const int8_t *s, int L, int *m_out, int *bond_out) {
  int m = 0, bond = 0;
  for (int y = 0; y < L; y++) {
    const int8_t *row = s + y * L, *down = s + (y == L - 1 ? 0 : y + 1) * L;
    for (int x = 0; x < L; x++) {
      int right = x == L - 1 ? 0 : x + 1;
      m += row[x];
      bond += row[x] * (row[right] + down[x]);
    }
  }
  *m_out = m;
  *bond_out = bond;
}

static int fail(const char *msg, const char *arg) {
  fprintf(stderr, "ising: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  return 2;
}

/* Parses a decimal number (JSON number syntax is a subset of strtod's). */
static int parse_num(const char *s, double *out) {
  char *end;
  *out = strtod(s, &end);
  return end != s && *end == '\0';
}

int main(int argc, char **argv) {
  double T = -1, Ld = 32, seedd = 1, thermd = 1000, sweepsd = 10000, binsd = 20;
  for (int i = 1; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    if (!eq) return fail("argument is not key=value", argv[i]);
    size_t klen = (size_t)(eq - argv[i]);
#define KEY(name) (klen == sizeof(name) - 1 && strncmp(argv[i], name, klen) == 0)
    double *target;
    if (KEY("T")) target = &T;
    else if (KEY("L")) target = &Ld;
    else if (KEY("seed")) target = &seedd;
    else if (KEY("therm")) target = &thermd;
    else if (KEY("sweeps")) target = &sweepsd;
    else if (KEY("bins")) target = &binsd;
    else return fail("unknown parameter", argv[i]);
    if (!parse_num(eq + 1, target)) return fail("value is not a number", argv[i]);
#undef KEY
  }
  if (!(T > 0.01 && T <= 100)) return fail("T must be a number in (0.01, 100]", NULL);
  if (!(Ld >= 4 && Ld <= 1024 && Ld == (int)Ld && ((int)Ld % 2) == 0)) return fail("L must be an even integer in [4, 1024]", NULL);
  if (!(seedd >= 0 && seedd <= 4294967295.0 && seedd == (double)(uint32_t)seedd)) return fail("seed must be an integer in [0, 2^32)", NULL);
  if (!(thermd >= 0 && thermd <= 1e7 && thermd == (int)thermd)) return fail("therm must be an integer in [0, 1e7]", NULL);
  if (!(binsd >= 2 && binsd <= 1000 && binsd == (int)binsd)) return fail("bins must be an integer in [2, 1000]", NULL);
  if (!(sweepsd >= binsd && sweepsd <= 1e7 && sweepsd == (int)sweepsd && (int)sweepsd % (int)binsd == 0))
    return fail("sweeps must be an integer in [bins, 1e7], a multiple of bins", NULL);
  const int L = (int)Ld, N = L * L, therm = (int)thermd, sweeps = (int)sweepsd, bins = (int)binsd;
  /* Work cap: (therm + sweeps) * N spin updates, at most 2e11 (minutes, not hours). */
  if ((thermd + sweepsd) * N > 2e11) return fail("(therm + sweeps) * L^2 must be at most 2e11", NULL);

  Rng rng = seed_rng((uint32_t)seedd);
  /* Acceptance threshold for an energy rise dE = 4 and 8: accept when a uniform 32-bit integer
   * is below exp(-dE/T) * 2^32. Integer comparison: no float in the hot loop. */
  uint32_t accept4, accept8;
  {
    double p4 = det_exp(-4.0 / T) * 4294967296.0, p8 = det_exp(-8.0 / T) * 4294967296.0;
    accept4 = p4 >= 4294967295.0 ? 4294967295u : (uint32_t)p4;
    accept8 = p8 >= 4294967295.0 ? 4294967295u : (uint32_t)p8;
  }

  int8_t *s = malloc((size_t)N);
  double *binM = calloc((size_t)bins, sizeof(double)), *binE = calloc((size_t)bins, sizeof(double)),
         *binE2 = calloc((size_t)bins, sizeof(double));
  if (!s || !binM || !binE || !binE2) return fail("out of memory", NULL);
  memset(s, 1, (size_t)N);
  const int perBin = sweeps / bins;
  int64_t accepted = 0;

  for (int sweep = 0; sweep < therm + sweeps; sweep++) {
    accepted += metropolis_sweep(s, L, accept4, accept8, &rng);
    if (sweep < therm) continue;
    int m, bond;
    measure(s, L, &m, &bond);
    double absm = (double)(m < 0 ? -m : m) / N, e = -(double)bond / N;
    int b = (sweep - therm) / perBin;
    binM[b] += absm;
    binE[b] += e;
    binE2[b] += e * e;
  }

  double sumM = 0, sumE = 0, sumE2 = 0;
  for (int b = 0; b < bins; b++) {
    binM[b] /= perBin;
    binE[b] /= perBin;
    binE2[b] /= perBin;
    sumM += binM[b];
    sumE += binE[b];
    sumE2 += binE2[b];
  }
  const double meanM = sumM / bins, meanE = sumE / bins, meanE2 = sumE2 / bins;
  double varM = 0, varE = 0;
  for (int b = 0; b < bins; b++) {
    varM += (binM[b] - meanM) * (binM[b] - meanM);
    varE += (binE[b] - meanE) * (binE[b] - meanE);
  }
  /* Specific heat per spin, c = N (<e^2> - <e>^2) / T^2, and its jackknife error over the bins. */
  const double c = N * (meanE2 - meanE * meanE) / (T * T);
  double varC = 0;
  for (int b = 0; b < bins; b++) {
    double e1 = (sumE - binE[b]) / (bins - 1), e2 = (sumE2 - binE2[b]) / (bins - 1);
    double cb = N * (e2 - e1 * e1) / (T * T);
    varC += (cb - c) * (cb - c);
  }
  printf("{\"L\":%d,\"T\":%.17g,\"seed\":%u,\"sweeps\":%d,\"absM\":%.17g,\"absMErr\":%.17g,\"e\":%.17g,\"eErr\":%.17g,"
         "\"c\":%.17g,\"cErr\":%.17g,\"acceptance\":%.17g}\n",
         L, T, (uint32_t)seedd, sweeps, meanM, sqrt(varM / ((double)bins * (bins - 1))), meanE,
         sqrt(varE / ((double)bins * (bins - 1))), c, sqrt(varC * (bins - 1) / bins),
         (double)accepted / ((double)(therm + sweeps) * N));
  free(s);
  free(binM);
  free(binE);
  free(binE2);
  return 0;
}
