import type { TelemetryFrame } from '../../protocol/index.ts';

/** Where a buffer keeps a copy that survives a gateway restart (see disk-journal.ts). */
export interface FrameJournal {
  /** What survived: frames not yet acknowledged, oldest first, and the next seq to use. */
  load(): { frames: TelemetryFrame[]; nextSeq: number | null };
  append(frame: TelemetryFrame): void;
  dropped(seq: number): void;
  /** Every frame up to and including `seq` was acknowledged by the broker. */
  acked(seq: number): void;
  /** Writes what is pending; may compact. */
  flush(nextSeq: number, buffered: () => readonly TelemetryFrame[]): void;
}

export interface OutgoingMessage {
  id: number;
  frames: TelemetryFrame[];
}

/**
 * The gateway's store-and-forward buffer: every sampled frame goes in, in seq order; frames leave
 * only when the broker acknowledged (PUBACK) the message that carried them. Messages are taken from
 * the front in order, so what is in flight is always a prefix. When the buffer is full the oldest
 * frame not in flight is dropped and counted (the platform then sees a seq gap).
 */
export function createFrameBuffer(options: { capacity: number; journal?: FrameJournal; initial?: TelemetryFrame[] }) {
  let frames: TelemetryFrame[] = options.initial ? [...options.initial] : [];
  let head = 0;
  let inflightFrames = 0;
  let messages: { id: number; count: number; lastSeq: number; acked: boolean }[] = [];
  let nextId = 1;
  let dropped = 0;
  const journal = options.journal;

  const size = () => frames.length - head;

  function compact() {
    if (head > 1024 && head * 2 > frames.length) {
      frames = frames.slice(head);
      head = 0;
    }
  }

  return {
    size,
    /** Frames waiting to be sent (not in flight). */
    pending: () => size() - inflightFrames,
    inflightFrames: () => inflightFrames,
    inflightMessages: () => messages.length,
    dropped: () => dropped,
    push(frame: TelemetryFrame): void {
      if (size() >= options.capacity) {
        if (inflightFrames >= size()) {
          dropped++;
          journal?.dropped(frame.seq);
          return;
        }
        const at = head + inflightFrames;
        const [gone] = frames.splice(at, 1);
        dropped++;
        if (gone) journal?.dropped(gone.seq);
      }
      frames.push(frame);
      journal?.append(frame);
    },
    /** Takes up to `max` frames after those in flight as one message. */
    take(max: number): OutgoingMessage | null {
      const start = head + inflightFrames;
      const n = Math.min(max, frames.length - start);
      if (n <= 0) return null;
      const batch = frames.slice(start, start + n);
      inflightFrames += n;
      const msg = { id: nextId++, count: n, lastSeq: batch[n - 1]!.seq, acked: false };
      messages.push(msg);
      return { id: msg.id, frames: batch };
    },
    /** The broker acknowledged a message: its frames (and any acked before it) leave the buffer. Returns frames released. */
    ack(id: number): number {
      const msg = messages.find((m) => m.id === id);
      if (!msg) return 0;
      msg.acked = true;
      let released = 0;
      while (messages.length && messages[0]!.acked) {
        const m = messages.shift()!;
        head += m.count;
        inflightFrames -= m.count;
        released += m.count;
        journal?.acked(m.lastSeq);
      }
      compact();
      return released;
    },
    /** The connection is gone: nothing is in flight any more; everything unacknowledged will be sent again. */
    resetInflight(): void {
      messages = [];
      inflightFrames = 0;
    },
    snapshot: (): readonly TelemetryFrame[] => frames.slice(head),
    flush(nextSeq: number): void {
      journal?.flush(nextSeq, () => frames.slice(head));
    },
  };
}

export type FrameBuffer = ReturnType<typeof createFrameBuffer>;
