/*
 * The outer Solar System (the Sun, Jupiter, Saturn, Uranus, Neptune) as a Newtonian five-body
 * problem, in astronomical units, years and solar masses (G M_sun = 4 pi^2), the set-up of the
 * Computer Language Benchmarks Game's n-body problem: the same initial conditions (JPL data),
 * the Sun given the momentum that puts the centre of mass at rest, and its scheme, a kick of
 * the velocities by every pairwise force followed by a drift of the positions ("kd"). After
 * `steps` steps of `dt` it prints the total energy before and after, and the largest relative
 * energy error seen at `samples` evenly spaced checks, as one JSON object:
 *
 *   {"scheme":"kd","dt":..,"steps":..,"e0":..,"e1":..,"maxDrift":..}
 *
 * Published energies for dt = 0.01 with "kd": -0.169075164 at the start, -0.169087605 after
 * 1,000 steps, -0.169059907 after 50,000,000.
 *
 * Scheme "kdk" is the leapfrog in velocity-Verlet form (half kick, drift, half kick): the
 * velocities are then synchronous with the positions, and the energy error is O(dt^2). In "kd"
 * the positions are the leapfrog's but the velocities lag half a step, so the energy computed
 * from them is off by O(dt). A sweep over dt shows both slopes.
 *
 * A swarmgrid WASM job kind (WASI preview 1 command): parameters arrive as argv `key=value`
 * (argv[0] is the kind's name). Only + - * / and sqrt on doubles, all correctly rounded in IEEE
 * 754, so native builds (with -ffp-contract=off) and every WebAssembly engine print the same bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBODIES 5
#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

typedef struct { double x, y, z, vx, vy, vz, mass; } Body;

/* Positions in AU, velocities in AU/day (scaled to AU/year below), masses in solar masses. */
static const Body initial[NBODIES] = {
  { 0, 0, 0, 0, 0, 0, 1 }, /* Sun */
  { 4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
    1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05, 9.54791938424326609e-04 },
  { 8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
    -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05, 2.85885980666130812e-04 },
  { 1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
    2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05, 4.36624404335156298e-05 },
  { 1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
    2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05, 5.15138902046611451e-05 },
};

static void setup(Body *b) {
  double px = 0, py = 0, pz = 0;
  for (int i = 0; i < NBODIES; i++) {
    b[i] = initial[i];
    b[i].vx *= DAYS_PER_YEAR;
    b[i].vy *= DAYS_PER_YEAR;
    b[i].vz *= DAYS_PER_YEAR;
    b[i].mass *= SOLAR_MASS;
    px += b[i].vx * b[i].mass;
    py += b[i].vy * b[i].mass;
    pz += b[i].vz * b[i].mass;
  }
  b[0].vx = -px / SOLAR_MASS;
  b[0].vy = -py / SOLAR_MASS;
  b[0].vz = -pz / SOLAR_MASS;
}

/* Kinetic plus potential energy (G is folded into the masses). */
static double energy(const Body *b) {
  double e = 0;
  for (int i = 0; i < NBODIES; i++) {
    e += 0.5 * b[i].mass * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
    for (int j = i + 1; j < NBODIES; j++) {
      double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
      e -= b[i].mass * b[j].mass / sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}

/* v += h a(x): every pair once, Newton's third law. */
static void kick(Body *b, double h) {
  for (int i = 0; i < NBODIES; i++) {
    for (int j = i + 1; j < NBODIES; j++) {
      double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
      double d2 = dx * dx + dy * dy + dz * dz;
      double mag = h / (d2 * sqrt(d2));
      b[i].vx -= dx * b[j].mass * mag;
      b[i].vy -= dy * b[j].mass * mag;
      b[i].vz -= dz * b[j].mass * mag;
      b[j].vx += dx * b[i].mass * mag;
      b[j].vy += dy * b[i].mass * mag;
      b[j].vz += dz * b[i].mass * mag;
    }
  }
}

static void drift(Body *b, double h) {
  for (int i = 0; i < NBODIES; i++) {
    b[i].x += h * b[i].vx;
    b[i].y += h * b[i].vy;
    b[i].z += h * b[i].vz;
  }
}

static int fail(const char *msg, const char *arg) {
  fprintf(stderr, "nbody: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  return 2;
}

int main(int argc, char **argv) {
  double dt = 0.01, stepsd = 1000, samplesd = 1000, years = -1;
  int kdk = 0;
  for (int i = 1; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    if (!eq) return fail("argument is not key=value", argv[i]);
    size_t klen = (size_t)(eq - argv[i]);
    const char *val = eq + 1;
#define KEY(name) (klen == sizeof(name) - 1 && strncmp(argv[i], name, klen) == 0)
    if (KEY("scheme")) {
      if (strcmp(val, "kd") == 0) kdk = 0;
      else if (strcmp(val, "kdk") == 0) kdk = 1;
      else return fail("scheme must be kd or kdk", argv[i]);
      continue;
    }
    char *end;
    double v = strtod(val, &end);
    if (end == val || *end != '\0') return fail("value is not a number", argv[i]);
    if (KEY("dt")) dt = v;
    else if (KEY("steps")) stepsd = v;
    else if (KEY("years")) years = v;
    else if (KEY("samples")) samplesd = v;
    else return fail("unknown parameter", argv[i]);
#undef KEY
  }
  if (!(dt > 0 && dt <= 1)) return fail("dt must be in (0, 1] (years)", NULL);
  /* `years` (simulated time) overrides `steps`: steps = years / dt rounded, for sweeps over dt. */
  if (years >= 0) {
    if (!(years <= 1e6)) return fail("years must be in [0, 1e6]", NULL);
    stepsd = floor(years / dt + 0.5);
  }
  if (!(stepsd >= 0 && stepsd <= 1e9 && stepsd == floor(stepsd))) return fail("steps must be an integer in [0, 1e9]", NULL);
  if (!(samplesd >= 1 && samplesd <= 1e6 && samplesd == floor(samplesd))) return fail("samples must be an integer in [1, 1e6]", NULL);
  const long steps = (long)stepsd, samples = (long)samplesd;

  Body b[NBODIES];
  setup(b);
  const double e0 = energy(b);
  double maxDrift = 0;
  long next = 1; /* the next sample is after step ceil(k * steps / samples) */
  long k = 1;
  if (kdk) kick(b, 0.5 * dt);
  for (long n = 1; n <= steps; n++) {
    if (kdk) {
      drift(b, dt);
      kick(b, 0.5 * dt); /* the velocities are now at step n */
    } else {
      kick(b, dt);
      drift(b, dt);
    }
    next = (k * steps + samples - 1) / samples;
    if (n == next || n == steps) {
      double d = fabs(energy(b) - e0) / fabs(e0);
      if (d > maxDrift) maxDrift = d;
      if (n == next) k++;
    }
    if (kdk && n < steps) kick(b, 0.5 * dt); /* the two half kicks of consecutive steps */
  }
  printf("{\"scheme\":\"%s\",\"dt\":%.17g,\"steps\":%ld,\"e0\":%.17g,\"e1\":%.17g,\"maxDrift\":%.17g}\n", kdk ? "kdk" : "kd", dt,
         steps, e0, energy(b), maxDrift);
  return 0;
}
