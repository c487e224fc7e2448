import type { Client } from 'aedes';

/**
 * What an idle connection keeps, cut where aedes and mqtt-packet keep more than they use (measured
 * by heap snapshot diff: docs/benchmarks.md, "What an idle connection costs"). Both reach into the
 * mqtt-packet parser aedes creates for each client, like the packet-size and flow-control guards,
 * and throw when an upgrade has changed what they rely on.
 */

/** The parts of the mqtt-packet parser (9.x) used here. */
interface ParserInternals {
  /** bl's BufferListStream: a Duplex stream, used by the parser only as a list of buffers. */
  _list?: { length: number; constructor: { BufferList?: new () => unknown } };
  /** The CONNECT packet once one is parsed (the parser reads `protocolVersion` and `bridgeMode` from it). */
  settings?: { cmd?: string; protocolVersion?: number; bridgeMode?: boolean };
}

const LIST_METHODS = ['append', 'consume', 'slice', 'readUInt8', 'get', 'indexOf'] as const;

/**
 * The parser's read buffer becomes bl's plain `BufferList` (same methods, ~1 KB less per
 * connection than the `BufferListStream` it creates: no Duplex stream states, listeners and
 * buffered-write list). Call before the first byte is parsed (right after `aedes.handle`).
 */
export function lightenParser(client: Client): void {
  const parser = (client as unknown as { _parser?: ParserInternals })._parser;
  const list = parser?._list;
  const BufferList = list?.constructor.BufferList;
  if (!parser || !list || typeof BufferList !== 'function' || list.length !== 0)
    throw new Error('mqtt-packet parser internals not found: its buffer list cannot be replaced');
  const plain = new BufferList() as Record<string, unknown>;
  if (!LIST_METHODS.every((m) => typeof plain[m] === 'function') || plain.length !== 0)
    throw new Error('bl BufferList lacks what the mqtt-packet parser uses: its buffer list cannot be replaced');
  parser._list = plain as unknown as ParserInternals['_list'];
}

/**
 * Once a client is connected its parser needs of the CONNECT packet only the protocol version
 * (and bridge mode); the packet itself — client id, user name, password, will — need not stay in
 * memory for the life of the connection.
 */
export function settleConnectedParser(client: Client): void {
  const parser = (client as unknown as { _parser?: ParserInternals })._parser;
  const settings = parser?.settings;
  if (!parser || settings?.cmd !== 'connect') return;
  parser.settings = {
    protocolVersion: settings.protocolVersion!,
    ...(settings.bridgeMode ? { bridgeMode: true } : {}),
  };
}
