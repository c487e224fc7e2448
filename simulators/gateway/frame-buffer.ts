import type { TelemetryFrame } from '../../protocol/index.ts';

/** Where a buffer keeps a copy that survives a gateway restart (see disk-journal.ts). */
export interface FrameJournal {
  /**
   * What survived: `frames` not yet acknowledged, `acked` acknowledged but not yet confirmed by the
   * platform (both oldest first), and the next seq to use.
   */
  load(): { frames: TelemetryFrame[]; acked: TelemetryFrame[]; nextSeq: number | null };
  append(frame: TelemetryFrame): void;
  /** The frame left the buffer without a confirmation (dropped when full). */
  dropped(seq: number): void;
  /** Every frame up to and including `seq` was acknowledged by the broker. */
  acked(seq: number): void;
  /** The platform confirmed frames up to `seq` (with `ts` at most `ts`): they are gone for good. */
  confirmed(seq: number, ts: number): void;
  /** Writes what is pending; may compact. */
  flush(nextSeq: number, buffered: () => readonly TelemetryFrame[]): void;
}

export interface OutgoingMessage {
  id: number;
  frames: TelemetryFrame[];
  /** Frames sent again on the platform's `backfill` request (already acknowledged once). */
  resend: boolean;
}

export interface BackfillOutcome {
  fromSeq: number;
  toSeq: number;
  /** Frames queued to be sent again, or already on their way. */
  resent: number;
  /** Seq ranges of the request this buffer does not hold (any more), at most `maxRanges`. */
  missing: [number, number][];
}

/** Does a confirmation (seq, ts) cover this frame? Both must hold: see protocol `telemetry/confirmed`. */
export const covers = (c: { seq: number; ts: number }, f: TelemetryFrame) => f.seq <= c.seq && f.ts <= c.ts;

/**
 * The gateway's store-and-forward buffer. Every sampled frame goes in, in seq order, and stays until
 * the **platform confirms** it (`telemetry/confirmed`: stored with no gap up to there), not merely
 * until the broker acknowledged the message that carried it: the platform may still ask for it again
 * (`backfill`) when it finds a seq gap.
 *
 * Layout, oldest first: `[acknowledged, awaiting confirmation][in flight][pending]`. Messages are
 * taken from the front of the pending part in order; frames asked for by a backfill go out first, in
 * their own messages. When the buffer is full (`capacity` frames held), room is made by letting go of
 * the oldest acknowledged frame (the broker's PUBACK said it is stored: nothing is lost, only the
 * ability to send it again; counted as `released`), else by dropping the oldest pending frame (lost
 * for good: counted as `dropped`, and the platform sees the seq gap and is told on backfill).
 */
export function createFrameBuffer(options: {
  capacity: number;
  journal?: FrameJournal;
  initial?: TelemetryFrame[];
  initialAcked?: TelemetryFrame[];
}) {
  let frames: TelemetryFrame[] = [...(options.initialAcked ?? []), ...(options.initial ?? [])];
  let head = 0;
  /** Acknowledged frames, from `head`. */
  let acked = options.initialAcked?.length ?? 0;
  let inflightFrames = 0;
  /** In-flight messages of pending frames, in order: their frames follow the acknowledged ones. */
  let messages: { id: number; count: number; lastSeq: number; acked: boolean }[] = [];
  /** In-flight backfill messages. */
  let resendMessages = new Map<number, TelemetryFrame[]>();
  /** Acknowledged frames to send again (backfill), oldest first. */
  let resendQueue: TelemetryFrame[] = [];
  let nextId = 1;
  let dropped = 0;
  let released = 0;
  let confirmedTo: { seq: number; ts: number } | null = null;
  const journal = options.journal;

  const size = () => frames.length - head;

  function compact() {
    if (head > 1024 && head * 2 > frames.length) {
      frames = frames.slice(head);
      head = 0;
    }
  }

  /** Index in `frames` of the first frame with seq >= `seq` (frames are in seq order). */
  function lowerBound(seq: number): number {
    let lo = head;
    let hi = frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (frames[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function dropFromQueue(gone: ReadonlySet<TelemetryFrame> | ((f: TelemetryFrame) => boolean)) {
    if (resendQueue.length === 0) return;
    const test = typeof gone === 'function' ? gone : (f: TelemetryFrame) => gone.has(f);
    resendQueue = resendQueue.filter((f) => !test(f));
  }

  function confirm(seq: number, ts: number): number {
    const c = { seq, ts };
    // the newest confirmation by ts (a seq restart makes seqs fall, never ts)
    if (!confirmedTo || ts > confirmedTo.ts || (ts === confirmedTo.ts && seq > confirmedTo.seq)) confirmedTo = c;
    let gone = 0;
    while (acked > 0 && covers(c, frames[head]!)) {
      head++;
      acked--;
      gone++;
    }
    if (acked === 0 && inflightFrames === 0) {
      while (head < frames.length && covers(c, frames[head]!)) {
        head++;
        gone++;
      }
    }
    if (gone) {
      journal?.confirmed(seq, ts);
      dropFromQueue((f) => covers(c, f));
      compact();
    }
    return gone;
  }

  return {
    /** Frames held: acknowledged but unconfirmed, in flight and pending. */
    size,
    /** Frames not yet acknowledged by the broker (in flight or pending). */
    unacked: () => size() - acked,
    /** Frames waiting to be sent (not in flight). */
    pending: () => size() - acked - inflightFrames,
    /** Acknowledged frames kept until the platform confirms them. */
    unconfirmed: () => acked,
    inflightFrames: () => inflightFrames,
    inflightMessages: () => messages.length + resendMessages.size,
    /** Frames queued for a backfill and not yet sent. */
    resendQueued: () => resendQueue.length,
    dropped: () => dropped,
    released: () => released,
    confirmed: () => confirmedTo,
    push(frame: TelemetryFrame): void {
      if (size() >= options.capacity) {
        if (acked > 0) {
          // stored (PUBACK) but not yet confirmed: let go of the oldest, no data lost
          const gone = frames[head]!;
          head++;
          acked--;
          released++;
          journal?.dropped(gone.seq);
          dropFromQueue((f) => f === gone);
        } else if (inflightFrames >= size()) {
          dropped++;
          journal?.dropped(frame.seq);
          return;
        } else {
          const at = head + acked + inflightFrames;
          const [gone] = frames.splice(at, 1);
          dropped++;
          if (gone) journal?.dropped(gone.seq);
        }
      }
      frames.push(frame);
      journal?.append(frame);
    },
    /** Takes the next message: backfill frames first, else up to `max` frames after those in flight. */
    take(max: number): OutgoingMessage | null {
      if (resendQueue.length) {
        const batch = resendQueue.splice(0, max);
        const id = nextId++;
        resendMessages.set(id, batch);
        return { id, frames: batch, resend: true };
      }
      const start = head + acked + inflightFrames;
      const n = Math.min(max, frames.length - start);
      if (n <= 0) return null;
      const batch = frames.slice(start, start + n);
      inflightFrames += n;
      const msg = { id: nextId++, count: n, lastSeq: batch[n - 1]!.seq, acked: false };
      messages.push(msg);
      return { id: msg.id, frames: batch, resend: false };
    },
    /** The broker acknowledged a message. Returns how many frames became acknowledged (kept until confirmed). */
    ack(id: number): number {
      if (resendMessages.delete(id)) return 0;
      const msg = messages.find((m) => m.id === id);
      if (!msg) return 0;
      msg.acked = true;
      let done = 0;
      while (messages.length && messages[0]!.acked) {
        const m = messages.shift()!;
        acked += m.count;
        inflightFrames -= m.count;
        done += m.count;
        journal?.acked(m.lastSeq);
      }
      if (done && confirmedTo) confirm(confirmedTo.seq, confirmedTo.ts);
      return done;
    },
    /**
     * The platform confirmed everything up to (seq, ts): those frames leave the buffer. Pending
     * frames it covers (their PUBACK was lost with a connection) leave too when nothing is in flight.
     * Returns how many frames left.
     */
    confirm,
    /**
     * The platform asks for frames again (backfill). Acknowledged frames in range are queued to be
     * sent first; frames still pending or in flight are on their way anyway; the rest are missing.
     */
    backfill(
      req: { fromSeq: number; toSeq: number; afterTs?: number; beforeTs?: number },
      maxRanges = 10_000,
    ): BackfillOutcome {
      const inTs = (f: TelemetryFrame) =>
        (req.afterTs === undefined || f.ts > req.afterTs) && (req.beforeTs === undefined || f.ts < req.beforeTs);
      const missing: [number, number][] = [];
      const miss = (from: number, to: number) => {
        if (from > to) return;
        const last = missing[missing.length - 1];
        if (last && last[1] + 1 === from) last[1] = to;
        else if (missing.length < maxRanges) missing.push([from, to]);
      };
      const queued = new Set(resendQueue);
      for (const list of resendMessages.values()) for (const f of list) queued.add(f);
      const add: TelemetryFrame[] = [];
      let resent = 0;
      let expect = req.fromSeq;
      const ackedEnd = head + acked;
      for (let i = lowerBound(req.fromSeq); i < frames.length; i++) {
        const f = frames[i]!;
        if (f.seq > req.toSeq) break;
        if (!inTs(f)) continue;
        miss(expect, f.seq - 1);
        expect = f.seq + 1;
        resent++;
        if (i < ackedEnd && !queued.has(f)) add.push(f);
      }
      miss(expect, req.toSeq);
      if (add.length) {
        // keep the queue in seq order so that a replay stays oldest first
        resendQueue = [...resendQueue, ...add].sort((a, b) => a.seq - b.seq);
      }
      return { fromSeq: req.fromSeq, toSeq: req.toSeq, resent, missing };
    },
    /** The connection is gone: nothing is in flight any more; everything unacknowledged will be sent again. */
    resetInflight(): void {
      const back = [...resendMessages.values()].flat();
      if (back.length) resendQueue = [...back, ...resendQueue].sort((a, b) => a.seq - b.seq);
      messages = [];
      resendMessages = new Map();
      inflightFrames = 0;
    },
    /** Every frame held, oldest first. */
    snapshot: (): readonly TelemetryFrame[] => frames.slice(head),
    flush(nextSeq: number): void {
      journal?.flush(nextSeq, () => frames.slice(head));
    },
  };
}

export type FrameBuffer = ReturnType<typeof createFrameBuffer>;
