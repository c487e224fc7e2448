import type { Client } from 'aedes';

interface ParserInternals {
  packet: { length: number };
  /** The aedes client that owns the parser (aedes sets it). */
  client?: Client;
  _parseLength: () => boolean;
  _emitError: (err: Error) => void;
}

/**
 * Closes a connection as soon as a packet header announces more than `maxBytes`, before the body
 * is buffered. aedes has no such limit of its own; this hooks the mqtt-packet parser that aedes
 * creates for each client (covered by test/integration/ingest.test.ts, so an upgrade that changes
 * those internals fails loudly instead of silently dropping the limit). One function serves every
 * connection (it finds its client through the parser): a connection keeps no closure of its own.
 */
export function createPacketSizeGuard(maxBytes: number, onTooLarge: (client: Client) => void) {
  let parseLength: (() => boolean) | undefined;
  function guardedParseLength(this: ParserInternals): boolean {
    const done = parseLength!.call(this);
    if (done && this.packet.length > maxBytes) {
      onTooLarge(this.client!);
      this._emitError(new Error(`packet of ${this.packet.length} bytes exceeds the ${maxBytes}-byte limit`));
      return false;
    }
    return done;
  }
  return function install(client: Client): void {
    const parser = (client as unknown as { _parser?: ParserInternals })._parser;
    if (!parser || typeof parser._parseLength !== 'function' || parser.client !== client) {
      throw new Error('aedes client parser not found: the packet size guard cannot be installed');
    }
    // the parser class's own method, the same for every connection
    if (parser._parseLength !== guardedParseLength) parseLength ??= parser._parseLength;
    if (parser._parseLength !== parseLength)
      throw new Error('the parser has an unexpected _parseLength: the packet size guard cannot be installed');
    parser._parseLength = guardedParseLength;
  };
}
