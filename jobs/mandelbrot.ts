import { encode } from 'fast-png';
import { equalise, PALETTE } from './palette.js';
import type { JobKind, Json } from './types.js';
import { asObject, intField, numField } from './validate.js';

/**
 * One work unit: a tile of the image. Pixel (c, r) of the image samples the complex point
 * x0 + (c + 0.5)·step + i·(y0 − (r + 0.5)·step): (x0, y0) is the image's top-left corner.
 */
export interface MandelbrotInput {
  x0: number;
  y0: number;
  step: number;
  /** Tile position in image pixels. */
  col: number;
  row: number;
  /** Tile size in pixels. */
  cols: number;
  rows: number;
  maxIter: number;
}

interface MandelbrotAcc {
  width: number;
  height: number;
  maxIter: number;
  counts: Uint16Array;
  tiles: number;
  label: string;
}

export interface MandelbrotParams {
  centerX: number;
  centerY: number;
  width: number;
  pixelsWide: number;
  pixelsHigh: number;
  maxIter: number;
  tileSize: number;
}

const MAX_SIDE = 16384;
const MAX_PIXELS = 1 << 26;
const MAX_TILE = 1024;
/** Iteration counts travel as uint16, and maxIter itself means "did not escape". */
const MAX_ITER = 65535;

export const mandelbrot: JobKind<MandelbrotInput, Uint8Array, MandelbrotAcc> = {
  name: 'mandelbrot',
  version: '1.0.0',
  description: 'Escape-time Mandelbrot tiles (uint16 iteration counts) assembled into a histogram-coloured PNG.',
  output: 'bytes',
  comparator: { type: 'exact' },
  params: [
    { name: 'centerX', type: 'number', default: -0.75, description: 'real part of the image centre' },
    { name: 'centerY', type: 'number', default: 0, description: 'imaginary part of the image centre' },
    { name: 'width', type: 'number', default: 3.5, description: 'width of the image in the complex plane (height follows from the pixel aspect)' },
    { name: 'pixelsWide', type: 'integer', default: 800, description: `image width in pixels (<= ${MAX_SIDE})` },
    { name: 'pixelsHigh', type: 'integer', default: 600, description: `image height in pixels (<= ${MAX_SIDE}; width × height <= 2^26)` },
    { name: 'maxIter', type: 'integer', default: 1000, description: `iteration limit (<= ${MAX_ITER})` },
    { name: 'tileSize', type: 'integer', default: 100, description: `tile edge in pixels, one tile per work unit (<= ${MAX_TILE})` },
  ],

  validateInput(input: unknown): MandelbrotInput {
    const obj = asObject(input, 'mandelbrot input');
    const step = numField(obj, 'step');
    if (!(step > 0)) throw new Error('step must be > 0');
    return {
      x0: numField(obj, 'x0'),
      y0: numField(obj, 'y0'),
      step,
      col: intField(obj, 'col', { min: 0, max: MAX_SIDE - 1 }),
      row: intField(obj, 'row', { min: 0, max: MAX_SIDE - 1 }),
      cols: intField(obj, 'cols', { min: 1, max: MAX_TILE }),
      rows: intField(obj, 'rows', { min: 1, max: MAX_TILE }),
      maxIter: intField(obj, 'maxIter', { min: 1, max: MAX_ITER }),
    };
  },

  /**
   * Counts, row-major, 2 bytes little-endian per pixel. Only +, − and × on doubles: IEEE 754
   * makes those bit-identical on every engine (JavaScript never fuses a multiply-add).
   */
  run({ x0, y0, step, col, row, cols, rows, maxIter }: MandelbrotInput): Uint8Array {
    const out = new Uint8Array(cols * rows * 2);
    let o = 0;
    for (let r = 0; r < rows; r++) {
      const ci = y0 - (row + r + 0.5) * step;
      for (let c = 0; c < cols; c++) {
        const n = escapeCount(x0 + (col + c + 0.5) * step, ci, maxIter);
        out[o++] = n & 0xff;
        out[o++] = n >>> 8;
      }
    }
    return out;
  },

  *generate(params: Json): Iterable<MandelbrotInput> {
    const p = resolveMandelbrotParams(params);
    const step = p.width / p.pixelsWide;
    const x0 = p.centerX - (step * p.pixelsWide) / 2;
    const y0 = p.centerY + (step * p.pixelsHigh) / 2;
    for (let row = 0; row < p.pixelsHigh; row += p.tileSize) {
      for (let col = 0; col < p.pixelsWide; col += p.tileSize) {
        const cols = Math.min(p.tileSize, p.pixelsWide - col);
        const rows = Math.min(p.tileSize, p.pixelsHigh - row);
        yield { x0, y0, step, col, row, cols, rows, maxIter: p.maxIter };
      }
    }
  },

  reducer: {
    init(params) {
      const p = resolveMandelbrotParams(params ?? {});
      const label = `centre (${p.centerX}, ${p.centerY}), width ${p.width}, maxIter ${p.maxIter}`;
      return { width: p.pixelsWide, height: p.pixelsHigh, maxIter: p.maxIter, counts: new Uint16Array(p.pixelsWide * p.pixelsHigh), tiles: 0, label };
    },
    add(acc, output, input) {
      const { col, row, cols, rows } = input;
      if (output.length !== cols * rows * 2) throw new Error(`mandelbrot tile at (${col}, ${row}) has ${output.length} bytes, expected ${cols * rows * 2}`);
      if (col + cols > acc.width || row + rows > acc.height || input.maxIter !== acc.maxIter) {
        throw new Error(`mandelbrot tile at (${col}, ${row}) does not belong to a ${acc.width}×${acc.height} image with maxIter ${acc.maxIter}`);
      }
      let o = 0;
      for (let r = 0; r < rows; r++) {
        let i = (row + r) * acc.width + col;
        for (let c = 0; c < cols; c++, o += 2) acc.counts[i++] = output[o]! | (output[o + 1]! << 8);
      }
      acc.tiles += 1;
      return acc;
    },
    finish(acc) {
      const png = encode({
        width: acc.width,
        height: acc.height,
        data: equalise(acc.counts, acc.maxIter),
        depth: 8,
        channels: 1,
        palette: PALETTE.map((rgb) => [...rgb]),
        text: { Software: 'swarmgrid', Comment: `Mandelbrot set, ${acc.label}` },
      });
      let inside = 0;
      for (let i = 0; i < acc.counts.length; i++) if (acc.counts[i] === acc.maxIter) inside++;
      const pct = ((100 * inside) / acc.counts.length).toFixed(1);
      return {
        contentType: 'image/png',
        fileName: 'mandelbrot.png',
        bytes: png,
        summary: `Mandelbrot ${acc.width}×${acc.height}, ${acc.label}: ${pct}% of pixels inside, ${acc.tiles} tiles`,
      };
    },
  },
};

/** Iterations of z ← z² + c from z = 0 before |z| > 2, or maxIter if it never escapes. */
function escapeCount(cr: number, ci: number, maxIter: number): number {
  // Points in the main cardioid or the period-2 bulb never escape: skip their iterations.
  const xq = cr - 0.25;
  const q = xq * xq + ci * ci;
  if (q * (q + xq) <= 0.25 * ci * ci) return maxIter;
  const xb = cr + 1;
  if (xb * xb + ci * ci <= 0.0625) return maxIter;
  let x = 0;
  let y = 0;
  for (let n = 0; n < maxIter; n++) {
    const x2 = x * x;
    const y2 = y * y;
    if (x2 + y2 > 4) return n;
    y = 2 * x * y + ci;
    x = x2 - y2 + cr;
  }
  return maxIter;
}

/** Batch params with defaults, checked once; `generate` and the reducer read the same values. */
export function resolveMandelbrotParams(params: Json): MandelbrotParams {
  const obj = asObject(params ?? {}, 'mandelbrot params');
  const width = numField(obj, 'width', { default: 3.5 });
  if (!(width > 0)) throw new Error('width must be > 0');
  const pixelsWide = intField(obj, 'pixelsWide', { min: 1, max: MAX_SIDE, default: 800 });
  const pixelsHigh = intField(obj, 'pixelsHigh', { min: 1, max: MAX_SIDE, default: 600 });
  if (pixelsWide * pixelsHigh > MAX_PIXELS) throw new Error(`pixelsWide × pixelsHigh must be <= ${MAX_PIXELS}`);
  if (!(width / pixelsWide > 0)) throw new Error('width / pixelsWide underflows: zoom too deep for float64');
  return {
    centerX: numField(obj, 'centerX', { default: -0.75 }),
    centerY: numField(obj, 'centerY', { default: 0 }),
    width,
    pixelsWide,
    pixelsHigh,
    maxIter: intField(obj, 'maxIter', { min: 1, max: MAX_ITER, default: 1000 }),
    tileSize: intField(obj, 'tileSize', { min: 1, max: MAX_TILE, default: 100 }),
  };
}
