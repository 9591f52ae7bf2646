import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { mandelbrot, resolveMandelbrotParams } from '../../jobs/mandelbrot.js';
import { equalise, PALETTE } from '../../jobs/palette.js';
import { runBatch } from './helpers.js';

/** A 1×1 tile whose single pixel samples c = re + i·im. */
function pixel(re: number, im: number, maxIter = 100) {
  return { x0: re - 0.5, y0: im + 0.5, step: 1, col: 0, row: 0, cols: 1, rows: 1, maxIter };
}

function count(bytes: Uint8Array, i = 0): number {
  return bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
}

describe('mandelbrot', () => {
  it('counts iterations to escape at known points', () => {
    // c = 1 + i: z1 = 1 + i (|z|² = 2), z2 = 1 + 3i (|z|² = 10): escapes after 2 iterations.
    expect(count(mandelbrot.run(pixel(1, 1)))).toBe(2);
    expect(count(mandelbrot.run(pixel(3, 0)))).toBe(1);
    expect(count(mandelbrot.run(pixel(10, 10)))).toBe(1);
    // Inside the main cardioid, the period-2 bulb, and on the real axis at c = −2 (bounded orbit).
    expect(count(mandelbrot.run(pixel(0, 0)))).toBe(100);
    expect(count(mandelbrot.run(pixel(-1, 0)))).toBe(100);
    expect(count(mandelbrot.run(pixel(-2, 0)))).toBe(100);
    // Near the centre of the period-3 bulb: bounded, and outside the cardioid and bulb shortcuts.
    expect(count(mandelbrot.run(pixel(-0.1226, 0.7449, 1000)))).toBe(1000);
  });

  it('returns two little-endian bytes per pixel, identical on every run', () => {
    const input = { x0: -2, y0: 1.2, step: 0.01, col: 30, row: 40, cols: 20, rows: 10, maxIter: 600 };
    const a = mandelbrot.run(input);
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBe(20 * 10 * 2);
    expect(mandelbrot.run(input)).toEqual(a);
    expect(Math.max(...Array.from({ length: 200 }, (_, i) => count(a, i)))).toBeLessThanOrEqual(600);
  });

  it('tiles the image exactly once, with partial tiles on the right and bottom edges', () => {
    const tiles = [...mandelbrot.generate!({ pixelsWide: 50, pixelsHigh: 30, tileSize: 16 })];
    expect(tiles).toHaveLength(4 * 2);
    const covered = new Uint8Array(50 * 30);
    for (const t of tiles) for (let r = 0; r < t.rows; r++) for (let c = 0; c < t.cols; c++) covered[(t.row + r) * 50 + t.col + c]! += 1;
    expect(covered.every((v) => v === 1)).toBe(true);
    expect(tiles[3]).toMatchObject({ col: 48, cols: 2, rows: 16 });
  });

  it('assembles tiles into a PNG of the requested size, the set itself black', () => {
    const params = { centerX: -0.5, centerY: 0, width: 3, pixelsWide: 60, pixelsHigh: 40, maxIter: 200, tileSize: 16 };
    const { artifact } = runBatch(mandelbrot, params);
    expect(artifact.contentType).toBe('image/png');
    expect(artifact.fileName).toBe('mandelbrot.png');
    const png = decode(artifact.bytes);
    expect(png.width).toBe(60);
    expect(png.height).toBe(40);
    expect(png.palette).toHaveLength(256);
    // The centre pixel (col 30, row 20) samples c ≈ −0.475 − 0.0375i, inside the main cardioid.
    expect(png.data[20 * 60 + 30]).toBe(0);
    expect(png.palette![0]).toEqual([0, 0, 0]);
    // The top-left corner (c ≈ −1.975 + 0.9625i) escapes at once: the first gradient colour.
    expect(png.data[0]).toBe(1);
    expect(artifact.summary).toMatch(/^Mandelbrot 60×40/);
    // Deterministic: the same batch gives the same PNG bytes.
    expect(runBatch(mandelbrot, params).artifact.bytes).toEqual(artifact.bytes);
  });

  it('colours by histogram: index 0 only for the set, every index in range', () => {
    const counts = Uint16Array.from([0, 0, 1, 5, 9, 10, 10]);
    const idx = equalise(counts, 10);
    expect(Array.from(idx)).toEqual([1, 1, 1 + Math.floor((2 / 5) ** 2 * 255), 1 + Math.floor((3 / 5) ** 2 * 255), 1 + Math.floor((4 / 5) ** 2 * 255), 0, 0]);
    expect(PALETTE).toHaveLength(256);
    for (const rgb of PALETTE) for (const v of rgb) expect(Number.isInteger(v) && v >= 0 && v <= 255).toBe(true);
  });

  it('rejects tiles that do not fit the image and bad params or inputs, naming the field', () => {
    const r = mandelbrot.reducer!;
    const acc = r.init({ pixelsWide: 10, pixelsHigh: 10, tileSize: 10, maxIter: 50 }, 1);
    const tile = { x0: 0, y0: 0, step: 0.1, col: 5, row: 0, cols: 10, rows: 10, maxIter: 50 };
    expect(() => r.add(acc, new Uint8Array(200), tile, 0)).toThrow(/does not belong/);
    expect(() => r.add(acc, new Uint8Array(3), { ...tile, col: 0 }, 0)).toThrow(/has 3 bytes, expected 200/);
    expect(() => mandelbrot.validateInput({ ...tile, step: 0 })).toThrow(/step must be > 0/);
    expect(() => mandelbrot.validateInput({ ...tile, maxIter: 70_000 })).toThrow(/maxIter must be <= 65535/);
    expect(() => mandelbrot.validateInput({ ...tile, cols: 2000 })).toThrow(/cols must be <= 1024/);
    expect(() => mandelbrot.validateInput({ ...tile, x0: 'a' })).toThrow(/x0 must be a finite number/);
    expect(() => resolveMandelbrotParams({ width: -1 })).toThrow(/width must be > 0/);
    expect(() => resolveMandelbrotParams({ pixelsWide: 16384, pixelsHigh: 16384 })).toThrow(/pixelsWide × pixelsHigh/);
  });
});
