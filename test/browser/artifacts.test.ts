/**
 * Artifacts as a person sees them: the hp-fold SVG rendered by Chromium, its caption measured
 * with the browser's own text metrics (a long fold string once ran past the picture's edge).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { renderFoldSvg } from '../../jobs/hp-svg.js';
import { hasChromium, INSTALL_HINT, launchChromium } from './chromium.js';

if (!hasChromium) console.warn(INSTALL_HINT);

describe.skipIf(!hasChromium)('artifacts rendered in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('hp-fold: every caption line ends inside the picture', async () => {
    const page = await browser.newPage();
    for (const [sequence, fold] of [['HPHPPHHPHPPHPHHPPHPH', 'RUULDLULLDRDLDRRDRU'], ['H', ''], ['H'.repeat(40), 'R'.repeat(39)]] as const) {
      await page.setContent(renderFoldSvg(sequence, fold, -9));
      const m = await page.evaluate<{ width: number; right: number }>(`(() => {
        const svg = document.querySelector('svg');
        const right = Math.max(...[...svg.querySelectorAll('text')].map((t) => t.x.baseVal[0].value + t.getComputedTextLength()));
        return { width: svg.width.baseVal.value, right };
      })()`);
      expect(m.right, `${sequence}: caption ends at ${m.right.toFixed(1)} px of ${m.width}`).toBeLessThanOrEqual(m.width);
    }
    await page.close();
  });
});
