import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { covers, type FrameJournal } from './frame-buffer.ts';

/**
 * The on-disk copy of a gateway's buffer, one directory per vehicle:
 * `journal.ndjson` (one frame per line, `{"drop":seq}` for a frame that left the buffer unconfirmed
 * because it was full) and `state.json` (`{"nextSeq","ackedThrough","confirmed":{seq,ts}}`). Writes
 * are batched per tick; the journal is rewritten (temp file + rename) when frames gone for good make
 * up most of it. After a restart, acknowledged but unconfirmed frames are kept (the platform may still
 * ask for them) and the unacknowledged ones are sent again. A crash between a PUBACK and the next flush
 * re-sends a few frames: the platform stores each (vehicle, seq, ts) once.
 */
export function createDiskJournal(dir: string): FrameJournal {
  mkdirSync(dir, { recursive: true });
  const journalFile = join(dir, 'journal.ndjson');
  const stateFile = join(dir, 'state.json');
  let lines: string[] = [];
  let ackedThrough = -1;
  let confirmed: { seq: number; ts: number } | null = null;
  let stateDirty = false;
  let journalLines = 0;

  return {
    load() {
      let nextSeq: number | null = null;
      if (existsSync(stateFile)) {
        try {
          const s = JSON.parse(readFileSync(stateFile, 'utf8')) as {
            nextSeq?: number;
            ackedThrough?: number;
            confirmed?: { seq?: unknown; ts?: unknown };
          };
          if (typeof s.nextSeq === 'number') nextSeq = s.nextSeq;
          if (typeof s.ackedThrough === 'number') ackedThrough = s.ackedThrough;
          if (typeof s.confirmed?.seq === 'number' && typeof s.confirmed.ts === 'number')
            confirmed = { seq: s.confirmed.seq, ts: s.confirmed.ts };
        } catch {
          // a torn state file: keep what the journal says
        }
      }
      const frames: TelemetryFrame[] = [];
      const drops = new Set<number>();
      if (existsSync(journalFile)) {
        for (const line of readFileSync(journalFile, 'utf8').split('\n')) {
          if (!line) continue;
          journalLines++;
          try {
            const v = JSON.parse(line) as TelemetryFrame | { drop: number };
            if ('drop' in v) drops.add(v.drop);
            else frames.push(v);
          } catch {
            // a torn last line after a crash
          }
        }
      }
      const kept = frames.filter((f) => !drops.has(f.seq) && !(confirmed && covers(confirmed, f)));
      const maxSeq = frames.reduce((m, f) => Math.max(m, f.seq), -1);
      if (nextSeq === null || nextSeq <= maxSeq) nextSeq = maxSeq >= 0 ? maxSeq + 1 : nextSeq;
      return {
        frames: kept.filter((f) => f.seq > ackedThrough),
        acked: kept.filter((f) => f.seq <= ackedThrough),
        nextSeq,
      };
    },
    append(frame) {
      lines.push(JSON.stringify(frame));
    },
    dropped(seq) {
      lines.push(JSON.stringify({ drop: seq }));
    },
    acked(seq) {
      if (seq > ackedThrough) {
        ackedThrough = seq;
        stateDirty = true;
      }
    },
    confirmed(seq, ts) {
      if (!confirmed || ts > confirmed.ts || (ts === confirmed.ts && seq > confirmed.seq)) {
        confirmed = { seq, ts };
        stateDirty = true;
      }
    },
    flush(nextSeq, buffered) {
      if (lines.length) {
        appendFileSync(journalFile, lines.join('\n') + '\n');
        journalLines += lines.length;
        lines = [];
        stateDirty = true;
      }
      if (!stateDirty) return;
      const tmp = stateFile + '.tmp';
      writeFileSync(tmp, JSON.stringify({ nextSeq, ackedThrough, confirmed }));
      renameSync(tmp, stateFile);
      stateDirty = false;
      const keep = buffered();
      if (journalLines > 2 * keep.length + 1000) {
        const tmpJ = journalFile + '.tmp';
        writeFileSync(tmpJ, keep.length ? keep.map((f) => JSON.stringify(f)).join('\n') + '\n' : '');
        renameSync(tmpJ, journalFile);
        journalLines = keep.length;
      }
    },
  };
}
