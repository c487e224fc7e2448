import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { Client } from 'aedes';

/**
 * aedes (1.2.0) and the routing libraries under it, by levels of a topic: qlobber throws on more
 * than 100, so aedes closes any connection that publishes one. We answer it like any other topic a
 * client may not publish on instead (see `createConnectionGuards`).
 */
export const MAX_TOPIC_LEVELS = 100;

export function topicLevels(topic: string): number {
  let levels = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) levels++;
  return levels;
}

export interface ConnectionLimits {
  /**
   * Receive window: packets one connection may have in the broker at once (parsed, not yet fully
   * handled: for a publish, until ingest has stored it and it has been delivered). At the limit the
   * connection is no longer read, so TCP slows the publisher; reading resumes at half.
   */
  maxInflight: number;
  /** Bytes read ahead from one connection's socket (its readable high-water mark). */
  readAheadBytes: number;
  /** Packets parsed from one connection in one turn of the event loop, at most; then it waits for the next turn. */
  packetsPerTurn: number;
  /** QoS 2 publishes one connection may leave waiting for their PUBREL; one more closes it. */
  maxQos2AwaitingRelease: number;
  /** A publish to a topic with more levels goes on under `placeholderTopic`; `originalTopic` gives it back. */
  maxTopicLevels: number;
  placeholderTopic: string;
}

export interface ConnectionEvents {
  /** The connection exceeded its QoS 2 window; it is being closed. */
  qos2WindowExceeded(client: Client): void;
  /** The connection's receive window filled up: it is not read until half of it has completed. */
  windowFull?(client: Client): void;
}

/** Where a parser carries its connection's guard state. */
const GUARD = Symbol('connection guard');

/** What this module needs of aedes' Client and of the mqtt-packet parser it owns (checked at install). */
interface ParserInternals extends EventEmitter {
  _list: { length: number; slice(): Buffer; consume(bytes: number): void };
  _emitError(err: Error): void;
  [GUARD]?: GuardState;
}
interface ClientInternals {
  conn?: Partial<Readable> & { _readableState?: { highWaterMark?: number } };
  _parser?: ParserInternals;
  _nextBatch?: (err?: Error | null) => void;
  _paused?: boolean;
  _parsingBatch?: number;
  pause?: () => void;
  resume?: () => void;
}
/** One connection's guard state. */
interface GuardState {
  client: Client;
  c: ClientInternals;
  parser: ParserInternals;
  conn: { unshift(chunk: Buffer): void };
  /** aedes' own `_nextBatch`. */
  nextBatch: (err?: Error | null) => void;
  /** Packets parsed and not yet reported handled. */
  inflight: number;
  /** Packets parsed since this connection last yielded to the event loop. */
  parsedThisTurn: number;
  /** Waiting for the next turn of the event loop before reading on. */
  yielding: boolean;
  /** Not read: by the receive window or the per-turn budget. */
  windowClosed: boolean;
  /** Not read: aedes paused it itself (while it authenticates the CONNECT). */
  aedesPaused: boolean;
  /** QoS 2 message ids awaiting PUBREL; created at the first QoS 2 publish. */
  awaitingRelease: Set<number> | null;
}
interface ParsedPacket {
  cmd: string;
  qos?: number;
  messageId?: number;
  topic?: unknown;
}

/**
 * Per-connection guards installed between the MQTT parser and aedes.
 *
 * **Receive window (backpressure).** aedes parses everything a read brings and reads a connection
 * again as soon as new bytes arrive, whatever is still in progress: a publisher faster than ingest
 * gets ahead without bound. Here every packet is counted from the moment it is parsed until aedes
 * reports it handled. When `maxInflight` are in progress, or `packetsPerTurn` were parsed in this
 * turn of the event loop (packets that complete at once, e.g. dropped QoS 0, never fill the window), the
 * parser stops after the current packet, the unparsed bytes go back into the socket
 * (`readable.unshift`) and the socket is not read until the window reopens (half the packets done,
 * next turn). With the read-ahead bounded too, memory per connection is at most `maxInflight`
 * packets plus `readAheadBytes`, a publisher faster than the platform is slowed by TCP instead of
 * queued, and one connection cannot hold the event loop for more than `packetsPerTurn` packets.
 *
 * **QoS 2 window.** A client that keeps sending new QoS 2 ids without ever releasing them makes
 * the broker keep every one of those messages; beyond `maxQos2AwaitingRelease` the connection is
 * closed (MQTT 3.1.1 has no way to refuse one).
 *
 * **Topic depth.** A publish to a topic deeper than `maxTopicLevels` goes on under a placeholder
 * topic, so that the ACL refuses it like any other topic a client may not use (answered, counted)
 * instead of aedes closing the connection.
 *
 * These hooks reach into aedes' client and the mqtt-packet parser; `install` fails loudly when an
 * upgrade has changed them (and test/reliability/fuzz-ingest and overload-qos0 exercise them).
 */
export function createConnectionGuards(limits: ConnectionLimits, events: ConnectionEvents) {
  const originalTopics = new WeakMap<object, string>();
  const refused = new WeakSet<object>();
  const resumeAt = Math.floor(limits.maxInflight / 2);

  /**
   * The functions below are shared by every connection: what one connection needs is this state
   * (one small object, reached from its parser) and one closure for aedes' `_nextBatch`, which
   * aedes passes on as a plain callback. An idle connection keeps nothing else (see
   * docs/benchmarks.md, "What an idle connection costs").
   */
  function install(client: Client): void {
    const c = client as unknown as ClientInternals;
    const parser = c._parser;
    const nextBatch = c._nextBatch;
    const conn = c.conn;
    if (
      !parser ||
      typeof parser.prependListener !== 'function' ||
      typeof parser._emitError !== 'function' ||
      typeof parser._list?.slice !== 'function' ||
      typeof parser._list?.consume !== 'function' ||
      typeof nextBatch !== 'function' ||
      typeof c._parsingBatch !== 'number' ||
      typeof c.pause !== 'function' ||
      typeof c.resume !== 'function' ||
      typeof conn?.unshift !== 'function' ||
      typeof conn._readableState?.highWaterMark !== 'number'
    ) {
      throw new Error('aedes client internals not found: the connection guards cannot be installed');
    }
    // how much the socket buffers ahead of the parser (the server's highWaterMark sets both directions)
    conn._readableState.highWaterMark = limits.readAheadBytes;
    const state: GuardState = {
      client,
      c,
      parser,
      conn: conn as GuardState['conn'],
      nextBatch,
      inflight: 0,
      parsedThisTurn: 0,
      yielding: false,
      windowClosed: false,
      aedesPaused: false,
      awaitingRelease: null,
    };
    parser[GUARD] = state;
    parser.prependListener('packet', onPacket);
    // aedes calls this once per handled packet (and, unwrapped, on socket 'readable')
    c._nextBatch = (err?: Error | null) => guardedNextBatch(state, err);
    c.pause = guardedPause;
    c.resume = guardedResume;
  }

  /** The parser stops after the current packet; what it has not parsed goes back into the socket, in order. */
  function stopParsing(s: GuardState): void {
    const list = s.parser._list;
    if (list.length === 0) return;
    const rest = list.slice(); // at most one read-ahead
    list.consume(list.length);
    s.conn.unshift(rest);
  }

  /** Read (and parse) again, now. */
  function readAgain(s: GuardState): void {
    s.c._paused = false;
    // aedes reads the socket when this count reaches 0 (on its own, only once every packet of the
    // last read is done): the window decides instead
    s.c._parsingBatch = 1;
    s.nextBatch();
  }

  function reopen(s: GuardState): void {
    if (!s.windowClosed || s.yielding || s.inflight > resumeAt) return;
    s.windowClosed = false;
    if (!s.aedesPaused) readAgain(s);
  }

  function nextTurn(s: GuardState): void {
    s.yielding = false;
    s.parsedThisTurn = 0;
    reopen(s);
  }

  function onPacket(this: ParserInternals, packet: ParsedPacket): void {
    const s = this[GUARD]!;
    s.inflight++;
    s.parsedThisTurn++;
    if (packet.cmd === 'publish') {
      if (packet.qos === 2 && packet.messageId !== undefined && !s.awaitingRelease?.has(packet.messageId)) {
        if ((s.awaitingRelease?.size ?? 0) >= limits.maxQos2AwaitingRelease) {
          refused.add(packet);
          events.qos2WindowExceeded(s.client);
          this._emitError(new Error(`more than ${limits.maxQos2AwaitingRelease} QoS 2 messages awaiting PUBREL`));
          return;
        }
        (s.awaitingRelease ??= new Set()).add(packet.messageId);
      }
      if (typeof packet.topic === 'string' && topicLevels(packet.topic) > limits.maxTopicLevels) {
        originalTopics.set(packet, packet.topic);
        packet.topic = limits.placeholderTopic;
      }
    } else if (packet.cmd === 'pubrel' && packet.messageId !== undefined) {
      s.awaitingRelease?.delete(packet.messageId);
    }
    if (s.windowClosed) return stopParsing(s); // (parsing bytes that were already in the parser)
    if (s.inflight >= limits.maxInflight) {
      s.windowClosed = true;
      events.windowFull?.(s.client);
    } else if (s.parsedThisTurn >= limits.packetsPerTurn) {
      s.windowClosed = true;
    } else return;
    s.c._paused = true;
    if (!s.yielding && s.parsedThisTurn >= limits.packetsPerTurn) {
      s.yielding = true;
      setImmediate(nextTurn, s);
    }
    stopParsing(s); // this packet goes on
  }

  function guardedNextBatch(s: GuardState, err?: Error | null): void {
    if (s.inflight > 0) s.inflight--;
    if (s.windowClosed && !err) {
      reopen(s);
      if (!s.windowClosed) return;
    }
    s.nextBatch(err);
  }

  // aedes pauses the client while it authenticates: both reasons to stop reading must be over to read again
  function guardedPause(this: ClientInternals): void {
    this._parser![GUARD]!.aedesPaused = true;
    this._paused = true;
  }
  function guardedResume(this: ClientInternals): void {
    const s = this._parser![GUARD]!;
    s.aedesPaused = false;
    if (s.windowClosed) return;
    this._paused = false;
    s.nextBatch();
  }

  return {
    install,
    /** The topic a publish was sent with, when it was too deep and replaced by the placeholder. */
    originalTopic: (packet: object): string | undefined => originalTopics.get(packet),
    /** A publish that broke the QoS 2 window: not to be processed (its connection is closing). */
    isRefused: (packet: object): boolean => refused.has(packet),
  };
}
