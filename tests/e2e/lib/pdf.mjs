// Reading a printed PDF the way a person would look at it: each page rasterised by poppler's
// `pdftoppm` (PPM, trivial to decode: no PNG dependency) and its text by `pdftotext -layout`.
// poppler-utils must be installed (`apt-get install poppler-utils`).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Decodes a binary PPM (`P6`, 8 bits per channel) into `{ width, height, data }`, `data` holding
 * RGB triples row by row.
 * @param {Buffer} buf
 */
export function parsePpm(buf) {
  let i = 0;
  const token = () => {
    for (;;) {
      while (i < buf.length && /\s/.test(String.fromCharCode(buf[i]))) i++;
      if (buf[i] !== 0x23) break;
      while (i < buf.length && buf[i] !== 0x0a) i++;
    }
    const start = i;
    while (i < buf.length && !/\s/.test(String.fromCharCode(buf[i]))) i++;
    return buf.subarray(start, i).toString('latin1');
  };
  const magic = token();
  if (magic !== 'P6') throw new Error(`not a binary PPM: ${magic}`);
  const width = Number(token());
  const height = Number(token());
  const max = Number(token());
  if (max !== 255) throw new Error(`unsupported PPM depth ${max}`);
  i++; // the single whitespace before the raster
  const data = buf.subarray(i, i + width * height * 3);
  if (data.length !== width * height * 3) throw new Error('truncated PPM');
  return { width, height, data };
}

/**
 * Every page of a PDF as a decoded image at `dpi` dots per inch.
 * @param {Buffer} pdf
 * @returns {Promise<Array<{width: number, height: number, data: Buffer}>>}
 */
export async function pdfPages(pdf, dpi = 60) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ancrage-pdf-'));
  try {
    const file = path.join(dir, 'doc.pdf');
    writeFileSync(file, pdf);
    await run('pdftoppm', ['-r', String(dpi), file, path.join(dir, 'page')]);
    // page-1.ppm … page-12.ppm (zero-padded to the page count's width): the number orders them.
    const pages = readdirSync(dir)
      .filter((f) => f.endsWith('.ppm'))
      .sort((a, b) => Number(/(\d+)\.ppm$/.exec(a)[1]) - Number(/(\d+)\.ppm$/.exec(b)[1]));
    return pages.map((f) => parsePpm(readFileSync(path.join(dir, f))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The text of each page of a PDF, laid out as printed (`pdftotext -layout`), with no-break
 * spaces made plain spaces.
 * @param {Buffer} pdf
 * @returns {Promise<string[]>}
 */
export async function pdfText(pdf) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ancrage-pdf-'));
  try {
    const file = path.join(dir, 'doc.pdf');
    writeFileSync(file, pdf);
    const { stdout } = await run('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { maxBuffer: 64 << 20 });
    const pages = stdout.replace(/[\u00a0\u202f]/g, ' ').split('\f');
    if (pages.at(-1).trim() === '') pages.pop();
    return pages;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The RGB of pixel (x, y). */
export function pixel(img, x, y) {
  const o = (y * img.width + x) * 3;
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
}

/** Whether a colour is ink on paper (not white, nor near it). */
export const inked = ([r, g, b]) => Math.min(r, g, b) < 250;

/** The longest run of inked pixels on row `y`: `[length, first x, last x]`. */
function longestRun(img, y) {
  let run = 0;
  let longest = [0, -1, -1];
  for (let x = 0; x < img.width; x++) {
    if (inked(pixel(img, x, y))) {
      run++;
      if (run > longest[0]) longest = [run, x - run + 1, x];
    } else run = 0;
  }
  return longest;
}

/**
 * The largest picture on a page, as `{ x0, y0, x1, y1 }` (inclusive), or `null`: a row inked
 * over at least `minWidth` pixels (the picture's top edge) from which both ends stay inked
 * down to its bottom. Text never does that; a map painted edge to edge does, whatever white
 * lines or labels it has inside.
 */
export function pictureBox(img, minWidth) {
  let best = null;
  for (let y = 0; y < img.height; y++) {
    const [length, x0, x1] = longestRun(img, y);
    if (length < minWidth) continue;
    // The edge columns, one pixel in (the outermost may be a faint border).
    const [left, right] = [x0 + 1, x1 - 1];
    let y1 = y;
    let misses = 0;
    for (let v = y + 1; v < img.height && misses <= 2; v++) {
      if (inked(pixel(img, left, v)) && inked(pixel(img, right, v))) {
        y1 = v;
        misses = 0;
      } else misses++;
    }
    if (!best || y1 - y > best.y1 - best.y0) best = { x0, y0: y, x1, y1 };
  }
  return best;
}

/**
 * The bounding box, inside `box`, of the pixels for which `test(rgb)` holds, or `null`.
 */
export function boundsOf(img, box, test) {
  let b = null;
  for (let y = box.y0; y <= box.y1; y++)
    for (let x = box.x0; x <= box.x1; x++) {
      if (!test(pixel(img, x, y))) continue;
      if (!b) b = { x0: x, y0: y, x1: x, y1: y };
      else {
        if (x < b.x0) b.x0 = x;
        if (x > b.x1) b.x1 = x;
        if (y < b.y0) b.y0 = y;
        if (y > b.y1) b.y1 = y;
      }
    }
  return b;
}

/**
 * Colours of a box, each channel quantised to 16 levels, with how many pixels have them.
 * @returns {Map<string, number>}
 */
export function colourCounts(img, box) {
  const counts = new Map();
  for (let y = box.y0; y <= box.y1; y++)
    for (let x = box.x0; x <= box.x1; x++) {
      const key = pixel(img, x, y)
        .map((c) => c >> 4)
        .join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  return counts;
}
