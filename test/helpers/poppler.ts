import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Poppler's tools on a PDF in a scratch directory (Debian poppler-utils, installed by .ci/run). */
export function poppler(dir: string, pdf: Buffer, name = 'report') {
  const file = join(dir, `${name}.pdf`);
  writeFileSync(file, pdf);
  return {
    fonts: () => execFileSync('pdffonts', [file], { encoding: 'utf8' }),
    text: () => execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }),
    pages: () => Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1] ?? 0),
    /** The first page as a PNG at 60 dpi, and its greyscale pixels' share of non-white. */
    inked(): { png: string; inkShare: number } {
      const prefix = join(dir, `${name}-page`);
      execFileSync('pdftoppm', ['-r', '60', '-f', '1', '-l', '1', '-singlefile', '-gray', file, prefix]);
      execFileSync('pdftoppm', ['-r', '60', '-f', '1', '-l', '1', '-singlefile', '-png', file, prefix]);
      const pgm = readFileSync(`${prefix}.pgm`);
      // binary PGM: "P5\n<w> <h>\n255\n" then one byte a pixel
      const header = pgm
        .subarray(0, 40)
        .toString('latin1')
        .match(/^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/);
      if (!header) throw new Error('not a PGM');
      const pixels = pgm.subarray(header[0].length);
      let dark = 0;
      for (const p of pixels) if (p < 200) dark++;
      return { png: `${prefix}.png`, inkShare: dark / pixels.length };
    },
  };
}
