import { readFile } from 'node:fs/promises';
import PDFDocument from 'pdfkit';
import { PlatformError } from '../core/errors.ts';
import { chartGeometry } from './chart.ts';
import type { ChartData, ReportBlock, ReportDocument } from './document.ts';
import type { ReportFont } from './font.ts';
import './errors.ts';

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = { top: 56, bottom: 60, left: 50, right: 50 };
const CONTENT_W = A4.width - MARGIN.left - MARGIN.right;
const INK = '#111111';
const MUTED = '#666666';
const ACCENT = '#1f3a5f';
const RULE = '#c8ced6';

/**
 * A report as a PDF (A4, vector charts, the CJK font embedded as a subset, page numbers in the
 * footer). The same ReportDocument as the HTML page. REPORT_FONT_MISSING when the font cannot be
 * read or is not a font pdfkit can embed.
 */
export async function renderReportPdf(report: ReportDocument, font: ReportFont): Promise<Buffer> {
  let fontData: Buffer;
  try {
    fontData = await readFile(font.file);
  } catch {
    throw new PlatformError(
      'REPORT_FONT_MISSING',
      `the report font ${font.file} cannot be read; install fonts-wqy-microhei or set REPORT_FONT_FILE`,
    );
  }
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    info: { Title: report.title, Subject: report.reference, Creator: 'PowerWatch', Producer: 'PowerWatch (pdfkit)' },
    lang: report.lang === 'zh' ? 'zh-CN' : 'en',
    displayTitle: true,
  } as PDFKit.PDFDocumentOptions);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  try {
    doc.registerFont('cjk', fontData, font.file.match(/\.(ttc|otc)$/i) ? (font.name ?? '') : undefined);
    doc.font('cjk');
  } catch (err) {
    throw new PlatformError(
      'REPORT_FONT_MISSING',
      `the report font ${font.file}${font.name ? ` (${font.name})` : ''} cannot be used: ${(err as Error).message}`,
    );
  }
  drawReport(doc, report);
  doc.end();
  return done;
}

function drawReport(doc: PDFKit.PDFDocument, r: ReportDocument): void {
  const bottom = () => A4.height - MARGIN.bottom;
  const ensure = (h: number) => {
    if (doc.y + h > bottom()) doc.addPage();
  };

  // title block
  doc.fillColor(MUTED).fontSize(9).text(r.issuer, MARGIN.left, MARGIN.top, { width: CONTENT_W, align: 'center' });
  doc.moveDown(0.3);
  doc
    .fillColor(ACCENT)
    .fontSize(20)
    .text(r.lang === 'zh' ? `《${r.title}》` : r.title, { width: CONTENT_W, align: 'center', characterSpacing: 1 });
  doc.moveDown(0.2);
  doc.fillColor(INK).fontSize(10).text(r.reference, { width: CONTENT_W, align: 'center' });
  doc.moveDown(0.4);
  doc
    .moveTo(MARGIN.left, doc.y)
    .lineTo(MARGIN.left + CONTENT_W, doc.y)
    .lineWidth(1.5)
    .strokeColor(ACCENT)
    .stroke();
  doc.moveDown(0.6);

  r.blocks.forEach((b, i) => drawBlock(doc, b, ensure, r.blocks[i + 1]));

  // footers: page numbers and the generation note on every page
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const keep = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = A4.height - MARGIN.bottom + 22;
    doc
      .moveTo(MARGIN.left, y - 6)
      .lineTo(MARGIN.left + CONTENT_W, y - 6)
      .lineWidth(0.5)
      .strokeColor(RULE)
      .stroke();
    doc
      .fillColor(MUTED)
      .fontSize(8)
      .text(r.footer, MARGIN.left, y, { width: CONTENT_W - 60, lineBreak: false });
    doc.text(`${i + 1} / ${range.count}`, MARGIN.left + CONTENT_W - 60, y, {
      width: 60,
      align: 'right',
      lineBreak: false,
    });
    doc.page.margins.bottom = keep;
  }
}

/** The least height a block starts with: a heading is kept with it on one page. */
function leadHeight(b: ReportBlock | undefined): number {
  if (!b) return 0;
  switch (b.kind) {
    case 'charts':
      return b.charts.length ? 160 : 20;
    case 'signatures':
      return 130;
    case 'table':
      return b.rows.length ? 50 : 20;
    default:
      return 30;
  }
}

function drawBlock(
  doc: PDFKit.PDFDocument,
  b: ReportBlock,
  ensure: (h: number) => void,
  next: ReportBlock | undefined,
): void {
  const x0 = MARGIN.left;
  switch (b.kind) {
    case 'heading': {
      ensure(30 + leadHeight(next)); // a heading never ends a page alone
      doc.moveDown(0.6);
      doc.fillColor(ACCENT).fontSize(12.5).text(b.text, x0, doc.y, { width: CONTENT_W });
      const y = doc.y + 1;
      doc
        .moveTo(x0, y)
        .lineTo(x0 + CONTENT_W, y)
        .lineWidth(0.6)
        .strokeColor('#b8c4d4')
        .stroke();
      doc.y = y + 5;
      return;
    }
    case 'paragraph':
      doc.fontSize(9.5).fillColor(b.muted ? MUTED : INK);
      ensure(doc.heightOfString(b.text, { width: CONTENT_W }) + 4);
      doc.text(b.text, x0, doc.y, { width: CONTENT_W });
      doc.moveDown(0.3);
      return;
    case 'fields': {
      const kw = 118;
      doc.fontSize(9.5);
      for (const [k, v] of b.rows) {
        const h = Math.max(
          doc.heightOfString(k, { width: kw - 8 }),
          doc.heightOfString(v || ' ', { width: CONTENT_W - kw }),
        );
        ensure(h + 3);
        const y = doc.y;
        doc.fillColor(MUTED).text(k, x0, y, { width: kw - 8 });
        doc.fillColor(INK).text(v || ' ', x0 + kw, y, { width: CONTENT_W - kw });
        doc.y = y + h + 3;
      }
      doc.moveDown(0.2);
      return;
    }
    case 'table': {
      doc.fontSize(9);
      if (b.rows.length === 0) {
        ensure(16);
        doc.fillColor(MUTED).text(b.empty, x0, doc.y, { width: CONTENT_W });
        doc.moveDown(0.3);
        return;
      }
      const weights = b.widths ?? b.columns.map(() => 1);
      const total = weights.reduce((a, c) => a + c, 0);
      const widths = b.columns.map((_, i) => (CONTENT_W * (weights[i] ?? 1)) / total);
      const pad = 4;
      const rowHeight = (cells: string[]) =>
        Math.max(...cells.map((c, i) => doc.heightOfString(c || ' ', { width: widths[i]! - 2 * pad }))) + 2 * pad - 2;
      const drawRow = (cells: string[], header: boolean) => {
        const h = rowHeight(cells);
        const y = doc.y;
        let x = x0;
        if (header) doc.rect(x0, y, CONTENT_W, h).fill('#eef2f7');
        cells.forEach((c, i) => {
          doc.rect(x, y, widths[i]!, h).lineWidth(0.5).strokeColor(RULE).stroke();
          doc.fillColor(header ? ACCENT : INK).text(c, x + pad, y + pad - 1, { width: widths[i]! - 2 * pad });
          x += widths[i]!;
        });
        doc.y = y + h;
      };
      ensure(rowHeight(b.columns) + rowHeight(b.rows[0]!));
      drawRow(b.columns, true);
      for (const row of b.rows) {
        if (doc.y + rowHeight(row) > A4.height - MARGIN.bottom) {
          doc.addPage();
          drawRow(b.columns, true);
        }
        drawRow(row, false);
      }
      doc.x = x0;
      doc.moveDown(0.5);
      return;
    }
    case 'charts': {
      doc.fontSize(9.5);
      if (b.charts.length === 0) {
        ensure(16);
        doc.fillColor(MUTED).text(b.empty, x0, doc.y, { width: CONTENT_W });
        doc.moveDown(0.3);
        return;
      }
      const gap = 14;
      const w = (CONTENT_W - gap) / 2;
      const h = 120;
      for (let i = 0; i < b.charts.length; i += 2) {
        ensure(h + 34);
        const y = doc.y;
        const rowCharts = b.charts.slice(i, i + 2);
        const heights = rowCharts.map((c, j) => drawChart(doc, c, x0 + j * (w + gap), y, w, h, b.timeZone));
        doc.y = y + Math.max(...heights) + 8;
      }
      if (b.note) {
        doc.fontSize(8).fillColor(MUTED).text(b.note, x0, doc.y, { width: CONTENT_W });
        doc.moveDown(0.3);
      }
      return;
    }
    case 'signatures': {
      const gap = 16;
      const w = (CONTENT_W - gap) / 2;
      const h = 118;
      ensure(h + 10);
      const y = doc.y + 4;
      b.parties.forEach((p, i) => {
        const x = x0 + i * (w + gap);
        doc.rect(x, y, w, h).lineWidth(0.8).strokeColor('#888888').stroke();
        doc
          .fontSize(10.5)
          .fillColor(ACCENT)
          .text(p.side, x + 10, y + 8, { width: w - 20 });
        doc
          .fontSize(9.5)
          .fillColor(INK)
          .text(`${p.role}: `, x + 10, y + 28, { width: w - 20, continued: true })
          .fillColor(p.signed ? '#2e7d32' : '#c62828')
          .text(p.status);
        doc.fillColor(INK).text(`${b.captions.name}: ${p.name}`, x + 10, y + 46, { width: w - 20 });
        doc.text(`${b.captions.at}: ${p.at}`, x + 10, y + 62, { width: w - 20 });
        if (p.note)
          doc
            .fontSize(8)
            .fillColor(MUTED)
            .text(p.note, x + 10, y + 77, { width: w - 20, height: 14, ellipsis: true });
        doc
          .fontSize(9.5)
          .fillColor(INK)
          .text(`${b.captions.signature}:`, x + 10, y + h - 20, { width: 60 });
        doc
          .moveTo(x + 60, y + h - 10)
          .lineTo(x + w - 12, y + h - 10)
          .lineWidth(0.5)
          .strokeColor('#888888')
          .stroke();
      });
      doc.y = y + h + 8;
      doc.x = x0;
      return;
    }
  }
}

/** One chart at (x, y), w × h for the plot box; returns the height used with its caption and legend. */
function drawChart(
  doc: PDFKit.PDFDocument,
  c: ChartData,
  x: number,
  y: number,
  w: number,
  h: number,
  timeZone: string,
): number {
  doc.fontSize(9).fillColor(INK).text(c.title, x, y, { width: w, lineBreak: false });
  const top = y + 14;
  const g = chartGeometry(c, w, h, timeZone);
  const p = g.plot;
  doc.save();
  doc.translate(x, top);
  doc.fontSize(6).fillColor('#444444');
  for (const t of g.yTicks) {
    doc
      .moveTo(p.x, t.y)
      .lineTo(p.x + p.w, t.y)
      .lineWidth(0.4)
      .strokeColor('#e2e2e2')
      .stroke();
    doc.fillColor('#444444').text(t.label, 0, t.y - 3, { width: p.x - 3, align: 'right', lineBreak: false });
  }
  for (const t of g.xTicks)
    doc.text(t.label, t.x - 20, p.y + p.h + 3, { width: 40, align: 'center', lineBreak: false });
  doc.rect(p.x, p.y, p.w, p.h).lineWidth(0.5).strokeColor('#999999').stroke();
  for (const m of g.markers) {
    doc
      .moveTo(m.x, p.y)
      .lineTo(m.x, p.y + p.h)
      .lineWidth(0.6)
      .dash(2.5, { space: 1.5 })
      .strokeColor('#c62828')
      .stroke()
      .undash();
    if (m.anchor === 'end')
      doc.fillColor('#c62828').text(m.label, m.x - 62, p.y + 2, { width: 60, align: 'right', lineBreak: false });
    else doc.fillColor('#c62828').text(m.label, m.x + 2, p.y + 2, { lineBreak: false });
  }
  for (const l of g.lines) if (l.d) doc.path(l.d).lineWidth(1).lineJoin('round').strokeColor(l.color).stroke();
  doc.restore();
  let used = 14 + h;
  if (c.lines.length > 1) {
    let lx = x + p.x;
    const ly = top + h + 4;
    doc.fontSize(7.5);
    for (const l of c.lines) {
      doc.rect(lx, ly + 3, 12, 2.5).fill(l.color);
      doc.fillColor(INK).text(l.label, lx + 15, ly, { lineBreak: false });
      lx += 15 + doc.widthOfString(l.label) + 14;
    }
    used += 14;
  }
  return used;
}
