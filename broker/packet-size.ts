import type { Client } from 'aedes';

interface ParserInternals {
  packet: { length: number };
  _parseLength: () => boolean;
  _emitError: (err: Error) => void;
}

/**
 * Closes a connection as soon as a packet header announces more than `maxBytes`, before the body
 * is buffered. aedes has no such limit of its own; this hooks the mqtt-packet parser that aedes
 * creates for each client (covered by test/integration/ingest.test.ts, so an upgrade that changes
 * those internals fails loudly instead of silently dropping the limit).
 */
export function guardPacketSize(client: Client, maxBytes: number, onTooLarge: () => void): void {
  const parser = (client as unknown as { _parser?: ParserInternals })._parser;
  if (!parser || typeof parser._parseLength !== 'function') {
    throw new Error('aedes client parser not found: the packet size guard cannot be installed');
  }
  const parseLength = parser._parseLength;
  parser._parseLength = function guardedParseLength(this: ParserInternals) {
    const done = parseLength.call(this);
    if (done && this.packet.length > maxBytes) {
      onTooLarge();
      this._emitError(new Error(`packet of ${this.packet.length} bytes exceeds the ${maxBytes}-byte limit`));
      return false;
    }
    return done;
  };
}
