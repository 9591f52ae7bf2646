// The ising kind's reducer (runs on the coordinator; docs/JOB-KINDS.md, "WASM kind manifest"):
// folds the work units' outputs into ising.svg, a plot of the mean |magnetisation| per spin and the
// energy per spin against temperature, with error bars, the exact infinite-lattice curves (Yang's
// spontaneous magnetisation, Onsager's energy) and Tc marked. The table behind the plot, one row per
// temperature with the seeds combined, is inside the SVG as CSV (<metadata id="csv">); every unit's
// own output is in results.ndjson beside it. (A batch has one artifact: docs/JOB-KINDS.md.)
// Self-contained (no imports): the manifest's modules travel in the kind's bundle on their own.

const TC = 2 / Math.log(1 + Math.SQRT2);

function agm(a, b) {
  for (let i = 0; i < 64 && Math.abs(a - b) > 1e-16 * a; i++) [a, b] = [(a + b) / 2, Math.sqrt(a * b)];
  return a;
}
/** Onsager's energy per spin of the infinite lattice (J = 1, k_B = 1). */
function onsager(T) {
  const K = 1 / T;
  const k = (2 * Math.sinh(2 * K)) / Math.cosh(2 * K) ** 2;
  const K1 = Math.PI / (2 * agm(1, Math.sqrt(1 - k * k)));
  return -(1 / Math.tanh(2 * K)) * (1 + (2 / Math.PI) * (2 * Math.tanh(2 * K) ** 2 - 1) * K1);
}
/** Yang's spontaneous magnetisation per spin, 0 above Tc. */
function yang(T) {
  return T >= TC ? 0 : (1 - Math.sinh(2 / T) ** -4) ** (1 / 8);
}

// Independent runs at one temperature (one per seed) combine as the mean of their means, with
// error sqrt(sum err_i^2) / n.
function combine(runs, value, error) {
  const n = runs.length;
  const mean = runs.reduce((a, r) => a + r[value], 0) / n;
  const err = Math.sqrt(runs.reduce((a, r) => a + r[error] ** 2, 0)) / n;
  return { mean, err };
}

const num = (x, d = 6) => Number(x.toPrecision(d)).toString();

function table(byT) {
  const rows = [...byT.entries()].sort((a, b) => a[0] - b[0]).map(([T, runs]) => {
    const m = combine(runs, 'absM', 'absMErr');
    const e = combine(runs, 'e', 'eErr');
    const c = combine(runs, 'c', 'cErr');
    return { T, L: runs[0].L, seeds: runs.length, m: m.mean, mErr: m.err, e: e.mean, eErr: e.err, c: c.mean, cErr: c.err };
  });
  const csv = ['T,L,seeds,absM,absMErr,e,eErr,c,cErr,yangM,onsagerE',
    ...rows.map((r) => [r.T, r.L, r.seeds, r.m, r.mErr, r.e, r.eErr, r.c, r.cErr, yang(r.T), onsager(r.T)].map((x) => num(x, 10)).join(','))].join('\n');
  return { rows, csv };
}

/** One panel: points with error bars, an exact curve, Tc; returns SVG elements. */
function panel({ x0, y0, w, h, rows, key, errKey, exact, yMin, yMax, yTicks, title, yLabel }) {
  const tMin = Math.min(...rows.map((r) => r.T)), tMax = Math.max(...rows.map((r) => r.T));
  const span = tMax - tMin || 1;
  const X = (T) => x0 + ((T - tMin) / span) * w;
  const Y = (v) => y0 + h - ((v - yMin) / (yMax - yMin)) * h;
  const f = (v) => v.toFixed(1);
  const out = [`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#444"/>`,
    `<text x="${f(x0 + w / 2)}" y="${y0 - 10}" text-anchor="middle" font-size="15">${title}</text>`,
    `<text x="${f(x0 + w / 2)}" y="${y0 + h + 38}" text-anchor="middle">temperature T (J / k_B)</text>`,
    `<text transform="translate(${x0 - 48} ${f(y0 + h / 2)}) rotate(-90)" text-anchor="middle">${yLabel}</text>`];
  for (let i = 0; i <= 4; i++) {
    const T = tMin + (span * i) / 4;
    out.push(`<line x1="${f(X(T))}" y1="${y0 + h}" x2="${f(X(T))}" y2="${y0 + h + 5}" stroke="#444"/><text x="${f(X(T))}" y="${y0 + h + 19}" text-anchor="middle">${num(T, 3)}</text>`);
  }
  for (let i = 0; i <= yTicks; i++) {
    const v = yMin + ((yMax - yMin) * i) / yTicks;
    out.push(`<line x1="${x0 - 5}" y1="${f(Y(v))}" x2="${x0}" y2="${f(Y(v))}" stroke="#444"/><text x="${x0 - 8}" y="${f(Y(v) + 4)}" text-anchor="end">${num(v, 3)}</text>`);
  }
  if (TC > tMin && TC < tMax) {
    out.push(`<line x1="${f(X(TC))}" y1="${y0}" x2="${f(X(TC))}" y2="${y0 + h}" stroke="#c33" stroke-dasharray="4 3"/><text x="${f(X(TC) + 4)}" y="${y0 + 14}" fill="#c33">Tc = 2.269</text>`);
  }
  const pts = [];
  for (let i = 0; i <= 200; i++) {
    const T = tMin + (span * i) / 200;
    pts.push(`${f(X(T))},${f(Y(Math.min(yMax, Math.max(yMin, exact(T)))))}`);
  }
  out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#888" stroke-width="1.5"/>`);
  for (const r of rows) {
    const cx = f(X(r.T)), lo = f(Y(r[key] - r[errKey])), hi = f(Y(r[key] + r[errKey]));
    out.push(`<line x1="${cx}" y1="${lo}" x2="${cx}" y2="${hi}" stroke="#1f4e9c"/><line x1="${f(X(r.T) - 3)}" y1="${lo}" x2="${f(X(r.T) + 3)}" y2="${lo}" stroke="#1f4e9c"/><line x1="${f(X(r.T) - 3)}" y1="${hi}" x2="${f(X(r.T) + 3)}" y2="${hi}" stroke="#1f4e9c"/>`);
    out.push(`<circle cx="${cx}" cy="${f(Y(r[key]))}" r="3" fill="#1f4e9c"/>`);
  }
  return out;
}

export default {
  init() {
    return { byT: new Map(), units: 0 };
  },
  add(acc, output) {
    const runs = acc.byT.get(output.T) ?? [];
    runs.push(output);
    acc.byT.set(output.T, runs);
    acc.units++;
    return acc;
  },
  finish(acc) {
    const { rows, csv } = table(acc.byT);
    if (rows.length === 0) {
      return { contentType: 'text/csv', fileName: 'ising.csv', bytes: new TextEncoder().encode(`${csv}\n`), summary: 'no results' };
    }
    const L = rows[0].L;
    const eMin = Math.floor(Math.min(-2, ...rows.map((r) => r.e - r.eErr)) * 4) / 4;
    const eMax = Math.ceil(Math.max(...rows.map((r) => r.e + r.eErr)) * 4) / 4;
    const eTicks = Math.round((eMax - eMin) / 0.25); // a tick every 0.25
    const svg = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="440" viewBox="0 0 1000 440" font-family="sans-serif" font-size="12">',
      `<title>2D Ising model, L = ${L}: |m| and e against T</title>`,
      `<desc>Metropolis Monte Carlo on a periodic ${L}×${L} lattice, ${acc.units} work units; points: mean over seeds with one standard error; grey: exact infinite-lattice values (Yang, Onsager); red: Tc = 2/ln(1+√2). The table is in the metadata element as CSV.</desc>`,
      `<metadata id="csv"><![CDATA[\n${csv}\n]]></metadata>`,
      '<rect width="1000" height="440" fill="white"/>',
      ...panel({ x0: 80, y0: 40, w: 380, h: 320, rows, key: 'm', errKey: 'mErr', exact: yang, yMin: 0, yMax: 1, yTicks: 4, title: `mean |magnetisation| per spin, L = ${L} (grey: Yang)`, yLabel: '⟨|m|⟩' }),
      ...panel({ x0: 590, y0: 40, w: 380, h: 320, rows, key: 'e', errKey: 'eErr', exact: onsager, yMin: eMin, yMax: eMax, yTicks: eTicks, title: `energy per spin, L = ${L} (grey: Onsager)`, yLabel: '⟨e⟩ (J)' }),
      '</svg>',
      '',
    ].join('\n');
    const low = rows[0], high = rows[rows.length - 1];
    return {
      contentType: 'image/svg+xml',
      fileName: 'ising.svg',
      bytes: new TextEncoder().encode(svg),
      summary: `ising L=${L}, ${rows.length} temperatures × ${low.seeds} seeds: |m| ${num(low.m, 4)} ± ${num(low.mErr, 2)} at T=${low.T} (Yang ${num(yang(low.T), 4)}), `
        + `e ${num(high.e, 4)} ± ${num(high.eErr, 2)} at T=${high.T} (Onsager ${num(onsager(high.T), 4)})`,
    };
  },
};
