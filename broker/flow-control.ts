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

/** What this module needs of aedes' Client and of the mqtt-packet parser it owns (checked at install). */
interface ParserInternals extends EventEmitter {
  _list: { length: number; slice(): Buffer; consume(bytes: number): void };
  _emitError(err: Error): void;
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

    let inflight = 0;
    /** Packets parsed since this connection last yielded to the event loop. */
    let parsedThisTurn = 0;
    /** Waiting for the next turn of the event loop before reading on. */
    let yielding = false;
    /** Not read: by the receive window or the per-turn budget. */
    let windowClosed = false;
    /** Not read: aedes paused it itself (while it authenticates the CONNECT). */
    let aedesPaused = false;
    const awaitingRelease = new Set<number>();

    /** The parser stops after the current packet; what it has not parsed goes back into the socket, in order. */
    function stopParsing(): void {
      const list = parser!._list;
      if (list.length === 0) return;
      const rest = list.slice(); // at most one read-ahead
      list.consume(list.length);
      conn!.unshift!(rest);
    }

    /** Read (and parse) again, now. */
    function readAgain(): void {
      c._paused = false;
      // aedes reads the socket when this count reaches 0 (on its own, only once every packet of the
      // last read is done): the window decides instead
      c._parsingBatch = 1;
      nextBatch!();
    }

    function reopen(): void {
      if (!windowClosed || yielding || inflight > resumeAt) return;
      windowClosed = false;
      if (!aedesPaused) readAgain();
    }

    function nextTurn(): void {
      yielding = false;
      parsedThisTurn = 0;
      reopen();
    }

    parser.prependListener('packet', (packet: ParsedPacket) => {
      inflight++;
      parsedThisTurn++;
      if (packet.cmd === 'publish') {
        if (packet.qos === 2 && packet.messageId !== undefined && !awaitingRelease.has(packet.messageId)) {
          if (awaitingRelease.size >= limits.maxQos2AwaitingRelease) {
            refused.add(packet);
            events.qos2WindowExceeded(client);
            parser._emitError(new Error(`more than ${limits.maxQos2AwaitingRelease} QoS 2 messages awaiting PUBREL`));
            return;
          }
          awaitingRelease.add(packet.messageId);
        }
        if (typeof packet.topic === 'string' && topicLevels(packet.topic) > limits.maxTopicLevels) {
          originalTopics.set(packet, packet.topic);
          packet.topic = limits.placeholderTopic;
        }
      } else if (packet.cmd === 'pubrel' && packet.messageId !== undefined) {
        awaitingRelease.delete(packet.messageId);
      }
      if (windowClosed) return stopParsing(); // (parsing bytes that were already in the parser)
      if (inflight >= limits.maxInflight) {
        windowClosed = true;
        events.windowFull?.(client);
      } else if (parsedThisTurn >= limits.packetsPerTurn) {
        windowClosed = true;
      } else return;
      c._paused = true;
      if (!yielding && parsedThisTurn >= limits.packetsPerTurn) {
        yielding = true;
        setImmediate(nextTurn);
      }
      stopParsing(); // this packet goes on
    });

    // aedes calls this once per handled packet (and, unwrapped, on socket 'readable')
    c._nextBatch = function guardedNextBatch(err?: Error | null) {
      if (inflight > 0) inflight--;
      if (windowClosed && !err) {
        reopen();
        if (!windowClosed) return;
      }
      nextBatch(err);
    };
    // aedes pauses the client while it authenticates: both reasons to stop reading must be over to read again
    c.pause = () => {
      aedesPaused = true;
      c._paused = true;
    };
    c.resume = () => {
      aedesPaused = false;
      if (windowClosed) return;
      c._paused = false;
      nextBatch();
    };
  }

  return {
    install,
    /** The topic a publish was sent with, when it was too deep and replaced by the placeholder. */
    originalTopic: (packet: object): string | undefined => originalTopics.get(packet),
    /** A publish that broke the QoS 2 window: not to be processed (its connection is closing). */
    isRefused: (packet: object): boolean => refused.has(packet),
  };
}
