import { foldCoordinates, hhContacts } from './hp-lattice.js';

const CELL = 40;
const MARGIN = 40;
const RADIUS = 12;
/** Caption font size, px, and the advance of one monospace character (0.6 em in common fonts). */
const FONT = 14;
const CHAR = 0.6 * FONT;
const LINE = 20;

/** Splits `text` into lines of at most `perLine` characters. */
function wrap(text: string, perLine: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += perLine) lines.push(text.slice(i, i + perLine));
  return lines.length > 0 ? lines : [''];
}

/**
 * An SVG picture of a fold: bonds as grey lines, H–H contacts as dashed red lines, H residues as
 * black discs and P residues as white ones, residue 1 labelled. Deterministic text output.
 */
export function renderFoldSvg(sequence: string, fold: string, energy: number): string {
  const coords = foldCoordinates(fold);
  const xs = coords.map((c) => c[0]);
  const ys = coords.map((c) => c[1]);
  const minX = Math.min(...xs);
  const maxY = Math.max(...ys);
  // The caption is set in monospace, so its width is known without a font: wrapped to the
  // picture's width (the fold string of a long chain runs over several lines), and the picture
  // widened when even the shortest line would not fit.
  const headline = `E = ${energy} · ${sequence.length} residues`;
  const width = Math.max((Math.max(...xs) - minX) * CELL + 2 * MARGIN, Math.ceil(headline.length * CHAR) + MARGIN);
  const perLine = Math.max(1, Math.floor((width - MARGIN) / CHAR));
  const caption = [...wrap(headline, perLine), ...wrap(fold || '(single residue)', perLine)];
  const captionHeight = caption.length * LINE + 10;
  const height = (maxY - Math.min(...ys)) * CELL + 2 * MARGIN + captionHeight;
  // Lattice y grows upwards, SVG y downwards.
  const px = (i: number): string => String((coords[i]![0] - minX) * CELL + MARGIN);
  const py = (i: number): string => String((maxY - coords[i]![1]) * CELL + MARGIN);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  out.push(`<title>HP fold of ${sequence}, energy ${energy}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push('<g stroke="#d62728" stroke-width="2" stroke-dasharray="4 4">');
  for (const [i, j] of hhContacts(sequence, fold)) {
    out.push(`<line x1="${px(i)}" y1="${py(i)}" x2="${px(j)}" y2="${py(j)}"/>`);
  }
  out.push('</g>');
  const path = coords.map((_, i) => `${i === 0 ? 'M' : 'L'}${px(i)} ${py(i)}`).join(' ');
  out.push(`<path d="${path}" fill="none" stroke="#777777" stroke-width="5" stroke-linejoin="round"/>`);
  out.push('<g stroke="#000000" stroke-width="2">');
  for (let i = 0; i < coords.length; i++) {
    const fill = sequence[i] === 'H' ? '#000000' : '#ffffff';
    out.push(`<circle cx="${px(i)}" cy="${py(i)}" r="${RADIUS}" fill="${fill}"/>`);
  }
  out.push('</g>');
  const first = sequence[0] === 'H' ? '#ffffff' : '#000000';
  out.push(`<text x="${px(0)}" y="${py(0)}" dy="4" fill="${first}" font-family="sans-serif" font-size="11" text-anchor="middle">1</text>`);
  const top = height - captionHeight;
  out.push(`<g font-family="monospace" font-size="${FONT}">`);
  caption.forEach((line, k) => out.push(`<text x="${MARGIN / 2}" y="${top + (k + 1) * LINE}">${line}</text>`));
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
