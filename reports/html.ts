import { escapeHtml } from '../remote/record-html.ts';
import { chartGeometry } from './chart.ts';
import type { ChartData, ReportBlock, ReportDocument } from './document.ts';

/** The chart box in SVG user units (the PDF draws the same geometry, scaled). */
export const CHART_BOX = { width: 320, height: 150 };

function chartSvg(c: ChartData, timeZone: string): string {
  const g = chartGeometry(c, CHART_BOX.width, CHART_BOX.height, timeZone);
  const p = g.plot;
  const grid = g.yTicks
    .map(
      (t) =>
        `<line x1="${p.x}" x2="${p.x + p.w}" y1="${t.y}" y2="${t.y}" stroke="#e2e2e2" stroke-width="0.5"/><text x="${p.x - 3}" y="${t.y + 2.5}" text-anchor="end">${escapeHtml(t.label)}</text>`,
    )
    .join('');
  const xs = g.xTicks
    .map((t) => `<text x="${t.x}" y="${p.y + p.h + 10}" text-anchor="middle">${escapeHtml(t.label)}</text>`)
    .join('');
  const markers = g.markers
    .map(
      (m) =>
        `<line x1="${m.x}" x2="${m.x}" y1="${p.y}" y2="${p.y + p.h}" stroke="#c62828" stroke-width="0.7" stroke-dasharray="3 2"/><text x="${m.anchor === 'end' ? m.x - 2 : m.x + 2}" y="${p.y + 7}" fill="#c62828" text-anchor="${m.anchor}">${escapeHtml(m.label)}</text>`,
    )
    .join('');
  const lines = g.lines
    .map((l) => `<path d="${l.d}" fill="none" stroke="${escapeHtml(l.color)}" stroke-width="1.2"/>`)
    .join('');
  const legend =
    c.lines.length > 1
      ? `<div class="legend">${c.lines.map((l) => `<span><i style="background:${escapeHtml(l.color)}"></i>${escapeHtml(l.label)}</span>`).join('')}</div>`
      : '';
  return `<figure class="chart"><figcaption>${escapeHtml(c.title)}</figcaption><svg viewBox="0 0 ${CHART_BOX.width} ${CHART_BOX.height}" role="img" aria-label="${escapeHtml(c.title)}">${grid}<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="none" stroke="#999" stroke-width="0.6"/>${xs}${markers}${lines}</svg>${legend}</figure>`;
}

function block(b: ReportBlock): string {
  switch (b.kind) {
    case 'heading':
      return `<h2>${escapeHtml(b.text)}</h2>`;
    case 'paragraph':
      return `<p${b.muted ? ' class="muted"' : ''}>${escapeHtml(b.text)}</p>`;
    case 'fields':
      return `<table class="fields"><tbody>${b.rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>`;
    case 'table': {
      if (b.rows.length === 0) return `<p class="muted">${escapeHtml(b.empty)}</p>`;
      const total = (b.widths ?? b.columns.map(() => 1)).reduce((a, c) => a + c, 0);
      const cols = b.columns
        .map((_, i) => `<col style="width:${(((b.widths?.[i] ?? 1) / total) * 100).toFixed(1)}%">`)
        .join('');
      return `<table class="grid"><colgroup>${cols}</colgroup><thead><tr>${b.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
    }
    case 'charts':
      if (b.charts.length === 0) return `<p class="muted">${escapeHtml(b.empty)}</p>`;
      return `<div class="charts">${b.charts.map((c) => chartSvg(c, b.timeZone)).join('')}</div>${b.note ? `<p class="muted">${escapeHtml(b.note)}</p>` : ''}`;
    case 'signatures':
      return `<div class="signatures">${b.parties
        .map(
          (p) =>
            `<div class="party${p.signed ? ' signed' : ''}"><h3>${escapeHtml(p.side)}</h3><p class="role">${escapeHtml(p.role)}: <strong>${escapeHtml(p.status)}</strong></p><p>${escapeHtml(b.captions.name)}: ${escapeHtml(p.name)}</p><p>${escapeHtml(b.captions.at)}: ${escapeHtml(p.at)}</p>${p.note ? `<p class="muted">${escapeHtml(p.note)}</p>` : ''}<p class="sign">${escapeHtml(b.captions.signature)}:</p></div>`,
        )
        .join('')}</div>`;
  }
}

/**
 * A report as one printable HTML page: self-contained (inline style and SVG charts, no scripts, no
 * external assets), every value escaped. The console opens it; printing it gives the same content
 * as the PDF.
 */
export function renderReportHtml(doc: ReportDocument): string {
  return `<!doctype html>
<html lang="${doc.lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8">
<title>${escapeHtml(doc.title)} ${escapeHtml(doc.reference)}</title>
<style>
body{font:13px/1.5 "WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC",system-ui,sans-serif;margin:2em auto;max-width:860px;color:#111;padding:0 1em}
header{text-align:center;border-bottom:2px solid #1f3a5f;padding-bottom:.6em;margin-bottom:1em}
header .issuer{color:#555;font-size:12px}header h1{font-size:22px;margin:.2em 0;letter-spacing:.05em}header .ref{color:#333}
h2{font-size:15px;margin:1.4em 0 .5em;color:#1f3a5f;border-bottom:1px solid #b8c4d4;padding-bottom:2px}
table{border-collapse:collapse;width:100%;margin:.4em 0}
.fields th{width:10em;text-align:left;font-weight:600;color:#333;vertical-align:top;padding:2px 8px 2px 0}.fields td{padding:2px 0;white-space:pre-wrap}
.grid td,.grid th{border:1px solid #c8ced6;padding:3px 6px;text-align:left;vertical-align:top;white-space:pre-wrap}.grid th{background:#eef2f7}
.muted{color:#666}.charts{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.chart{margin:0}.chart figcaption{font-weight:600;font-size:12px}.chart svg{width:100%;height:auto;font-size:7px;fill:#444}
.legend{font-size:11px;color:#444}.legend span{margin-right:1em}.legend i{display:inline-block;width:14px;height:3px;margin-right:4px;vertical-align:middle}
.signatures{display:grid;grid-template-columns:1fr 1fr;gap:14px}.party{border:1px solid #999;padding:8px 12px;min-height:9em}
.party h3{margin:0 0 .4em;font-size:13px}.party p{margin:.2em 0}.party .sign{margin-top:2em;border-bottom:1px solid #999;padding-bottom:1.4em}
footer{margin-top:2em;border-top:1px solid #ccc;color:#666;font-size:11px}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr,.chart,.party{break-inside:avoid}}
</style></head><body>
<header><div class="issuer">${escapeHtml(doc.issuer)}</div><h1>${doc.lang === 'zh' ? `《${escapeHtml(doc.title)}》` : escapeHtml(doc.title)}</h1><div class="ref">${escapeHtml(doc.reference)}</div></header>
${doc.blocks.map(block).join('\n')}
<footer>${escapeHtml(doc.footer)}</footer>
</body></html>
`;
}
