import type { SessionRecord } from './record.ts';
import { localDateTime } from '../core/local-time.ts';

/** At most this many telemetry rows are printed; the JSON record keeps every frame. */
export const PRINTED_FRAME_ROWS = 1000;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text for HTML content and attribute values. */
export const escapeHtml = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const OUTCOMES: Record<string, string> = {
  resolved_remotely: 'Resolved remotely · 远程解决',
  escalated_on_site: 'Escalated to on-site repair · 转现场修理',
  crew_unreachable: 'Crew unreachable · 无法联系用户',
  abandoned: 'Abandoned · 会话中断',
};

function clock(timeZone: string) {
  return (ms: number | null) => (ms === null ? '—' : localDateTime(ms, timeZone, true));
}

const num = (v: unknown, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : '—');

/**
 * The record as one printable HTML page: self-contained (inline style, no scripts, no external
 * assets), every value escaped, times in the service centre's time zone. The service-report
 * issue turns it into the PDF report.
 */
export function renderRecordHtml(r: SessionRecord, viewer: { timeZone: string }): string {
  const at = clock(viewer.timeZone);
  const s = r.session;
  const people = (list: SessionRecord['participants']['staff']) =>
    list.length === 0
      ? '<p>—</p>'
      : `<ul>${list
          .map(
            (p) =>
              `<li>${escapeHtml(p.name)} <span class="muted">(${escapeHtml(p.role)}; joined ${at(p.joinedAt)}${
                p.leftAt === null ? '' : `, left ${at(p.leftAt)}`
              })</span></li>`,
          )
          .join('')}</ul>`;
  const timeline = r.timeline
    .map(
      (e) =>
        `<tr><td>${e.seq}</td><td>${at(e.at)}</td><td>${escapeHtml(e.actorName)}</td><td>${escapeHtml(e.kind)}</td><td>${escapeHtml(e.text)}</td></tr>`,
    )
    .join('');
  // links to the API, never loaded by the page: the record stays self-contained
  const photos = r.photos
    .map(
      (ph) =>
        `<li><a href="${escapeHtml(ph.url)}">${escapeHtml(ph.id)}</a> ${escapeHtml(ph.caption ?? '')} <span class="muted">(${escapeHtml(ph.type)}, ${Math.round(ph.size / 1024)} KB; ${escapeHtml(ph.by)}, ${at(ph.at)})</span></li>`,
    )
    .join('');
  const frames = r.telemetry.frames;
  const every = Math.max(1, Math.ceil(frames.length / PRINTED_FRAME_ROWS));
  const rows = frames
    .filter((_, i) => i % every === 0)
    .map(({ frame: f }) => {
      const x = f as unknown as {
        ts: number;
        source: string;
        mains?: { voltageV?: number };
        generator?: { running?: boolean; voltageV?: number };
        battery?: { voltageV?: number; socPct?: number };
        loadKw?: number;
      };
      return `<tr><td>${at(x.ts)}.${String(x.ts % 1000).padStart(3, '0')}</td><td>${escapeHtml(x.source)}</td><td>${num(
        x.mains?.voltageV,
      )}</td><td>${x.generator?.running ? num(x.generator.voltageV) : 'off'}</td><td>${num(
        x.battery?.voltageV,
        2,
      )}</td><td>${num(x.battery?.socPct, 0)}</td><td>${num(x.loadKw, 2)}</td></tr>`;
    })
    .join('');
  const sampled =
    every > 1
      ? `<p class="muted">${frames.length} frames; every ${every}th printed. The JSON record (GET /api/sessions/${s.id}/record) keeps them all.</p>`
      : `<p class="muted">${frames.length} frames.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Remote support record ${s.id} · 远程支援记录</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:20px}h2{font-size:15px;margin-top:1.6em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #bbb;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#eee}.muted{color:#555}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{font-weight:600}
@media print{body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}
</style></head><body>
<h1>Remote technical support record · 远程技术支援记录 #${s.id}</h1>
<dl>
<dt>Ticket · 工单</dt><dd>${escapeHtml(r.ticket.number)} — ${escapeHtml(r.ticket.title)} (${escapeHtml(r.ticket.status)})</dd>
<dt>Vehicle · 车辆</dt><dd>${escapeHtml(s.vehicleId)}</dd>
<dt>Need · 需求</dt><dd>${escapeHtml(s.description)}</dd>
<dt>Requested · 请求</dt><dd>${at(s.requestedAt)}</dd>
<dt>Answered · 应答</dt><dd>${at(s.answeredAt)}${r.timeToAnswerMs === null ? '' : ` (after ${Math.round(r.timeToAnswerMs / 1000)} s)`}</dd>
<dt>Ended · 结束</dt><dd>${at(s.endedAt)}</dd>
<dt>Outcome · 结果</dt><dd>${s.outcome ? escapeHtml(OUTCOMES[s.outcome] ?? s.outcome) : escapeHtml(s.status)}</dd>
<dt>Time zone</dt><dd>${escapeHtml(viewer.timeZone)}</dd>
</dl>
<h2>Our technicians · 我方技术人员</h2>${people(r.participants.staff)}
<h2>User's technicians · 用户技术人员</h2>${people(r.participants.crew)}
${r.participants.guests.length ? `<h2>Guests · 来宾</h2>${people(r.participants.guests)}` : ''}
<h2>Timeline · 过程记录</h2>
<table><thead><tr><th>#</th><th>Time</th><th>Who</th><th>Kind</th><th>What</th></tr></thead><tbody>${timeline}</tbody></table>
${photos ? `<h2>Photos · 照片</h2><ul>${photos}</ul>` : ''}
<h2>Telemetry · 遥测 (${at(r.telemetry.from)} – ${at(r.telemetry.to)})</h2>
${sampled}${r.telemetry.truncated ? '<p class="muted">More frames than a record keeps: the latest ones are not included.</p>' : ''}
<table><thead><tr><th>Time</th><th>Source</th><th>Mains V</th><th>Generator V</th><th>Battery V</th><th>SoC %</th><th>Load kW</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">Generated ${at(r.generatedAt)}.</p>
</body></html>
`;
}
