import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// bl as mqtt-packet resolves it (patches/bl+6.1.6.patch; mqtt-packet's own: patches/mqtt-packet+9.0.2.patch)
const fromPacket = createRequire(createRequire(import.meta.url).resolve('mqtt-packet'));
const require = createRequire(import.meta.url);
type Bl = {
  _bufs: Buffer[];
  length: number;
  append(b: Buffer | Uint8Array): Bl;
  consume(n: number): Bl;
  get(i: number): number | undefined;
  toString(enc?: BufferEncoding, start?: number, end?: number): string;
  readUInt8(o: number): number;
  readUInt16BE(o: number): number;
  readUInt32BE(o: number): number;
};
const bl = fromPacket('bl') as (b?: Buffer | Buffer[]) => Bl;
const mqttPacket = require('mqtt-packet') as {
  generate(p: object, opts?: object): Buffer;
  writeToStream(p: object, stream: { write(b: Buffer): boolean }, opts?: object): boolean;
  parser(opts?: object): { on(e: string, f: (p: unknown) => void): void; parse(b: Buffer): number };
};

/** A deterministic generator (no flaky seeds): a linear congruential sequence. */
function numbers(seed: number) {
  let x = seed;
  return (n: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % n;
  };
}

/** `whole` cut into pieces at the given lengths, as a BufferList of them. */
function listOf(whole: Buffer, cuts: number[]): Bl {
  const list = bl();
  let at = 0;
  for (const c of cuts) {
    list.append(whole.subarray(at, at + c));
    at += c;
  }
  if (at < whole.length) list.append(whole.subarray(at));
  return list;
}

const READS: [string, number][] = [
  ['readUInt8', 1],
  ['readInt8', 1],
  ['readUInt16BE', 2],
  ['readUInt16LE', 2],
  ['readInt16BE', 2],
  ['readUInt32BE', 4],
  ['readInt32LE', 4],
  ['readDoubleBE', 8],
  ['readBigUInt64LE', 8],
];

describe("the MQTT parser's buffer list (bl, patched: reads within the first buffer allocate nothing)", () => {
  it('keeps an appended Buffer as it is, not a new view of it (the patch is applied)', () => {
    const b = Buffer.from('abc');
    const list = bl().append(b);
    expect(list._bufs[0]).toBe(b);
    // a Uint8Array that is not a Buffer still becomes a Buffer view of the same memory
    const u = new Uint8Array([1, 2, 3]);
    const fromU = bl().append(u);
    expect(Buffer.isBuffer(fromU._bufs[0])).toBe(true);
    u[0] = 9;
    expect(fromU.get(0)).toBe(9);
  });

  it('reads every number, byte and string as the joined buffer does, within the first buffer and across', () => {
    const next = numbers(7);
    const whole = Buffer.from(Array.from({ length: 64 }, () => next(256)));
    for (let round = 0; round < 40; round++) {
      const cuts = Array.from({ length: 1 + next(5) }, () => 1 + next(20));
      const list = listOf(whole, cuts);
      // consumed from the front as the parser does: the first buffer becomes a slice of itself
      const dropped = next(6);
      list.consume(dropped);
      const rest = whole.subarray(dropped);
      expect(list.length).toBe(rest.length);
      for (let i = -1; i <= rest.length; i++) expect(list.get(i), `get(${i})`).toBe(rest[i]);
      for (const [m, size] of READS) {
        for (let at = 0; at + size <= rest.length; at++) {
          const read = (list as unknown as Record<string, (o: number) => unknown>)[m]!;
          expect(read.call(list, at), `${m}(${at}) cuts ${cuts.join(',')}`).toEqual(
            (rest[m as keyof Buffer] as (o: number) => unknown).call(rest, at),
          );
        }
      }
      for (let start = 0; start < rest.length; start += 3)
        for (let end = start; end <= rest.length; end += 5) {
          expect(list.toString('hex', start, end)).toBe(rest.toString('hex', start, end));
          expect(list.toString('latin1', start, end)).toBe(rest.toString('latin1', start, end));
        }
      expect(list.toString()).toBe(rest.toString());
      expect(list.toString('hex')).toBe(rest.toString('hex'));
    }
  });

  it('refuses a read past the end as before (a RangeError), in and beyond the first buffer', () => {
    const list = listOf(Buffer.from([1, 2, 3, 4, 5]), [3]);
    expect(() => list.readUInt16BE(4)).toThrow(RangeError);
    expect(list.readUInt32BE(1)).toBe(0x02030405);
    expect(() => list.readUInt8(5)).toThrow(RangeError);
    expect(list.get(5)).toBeUndefined();
    expect(list.toString('utf8', 2, 2)).toBe('');
  });

  it('parses QoS 1 PUBLISH packets split anywhere across socket reads into the same packets', () => {
    const next = numbers(11);
    const packets = Array.from({ length: 30 }, (_, i) => ({
      cmd: 'publish',
      topic: `v1/vehicles/V${i}/telemetry`,
      payload: Buffer.from(JSON.stringify({ v: 1, seq: i, ts: 1_700_000_000_000 + i, text: 'ä€'.repeat(i) })),
      qos: 1,
      messageId: 1 + i * 997,
      retain: false,
      dup: false,
    }));
    const stream = Buffer.concat(packets.map((p) => mqttPacket.generate(p)));
    for (const piece of [1, 2, 7, 64, 0]) {
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      const parsed: { topic: string; payload: Buffer; messageId: number; qos: number }[] = [];
      parser.on('packet', (p) => parsed.push(p as (typeof parsed)[number]));
      parser.on('error', (e) => {
        throw e;
      });
      for (let at = 0; at < stream.length;) {
        const n = piece || 1 + next(300);
        parser.parse(stream.subarray(at, at + n));
        at += n;
      }
      expect(parsed.map((p) => [p.topic, p.payload.toString(), p.messageId, p.qos])).toEqual(
        packets.map((p) => [p.topic, p.payload.toString(), p.messageId, p.qos]),
      );
    }
  });
});

describe("mqtt-packet's acknowledgements (patched: an MQTT 3.1.1 PUBACK is one write)", () => {
  const writes = () => {
    const chunks: Buffer[] = [];
    return { chunks, stream: { write: (b: Buffer) => chunks.push(Buffer.from(b)) > 0 } };
  };

  it('writes PUBACK, PUBREC, PUBREL and PUBCOMP as one 4-byte buffer, the bytes the protocol has', () => {
    const first: Record<string, number> = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 };
    for (const [cmd, header] of Object.entries(first))
      for (const messageId of [1, 255, 256, 0x1234, 65535]) {
        const { chunks, stream } = writes();
        expect(mqttPacket.writeToStream({ cmd, messageId }, stream, { protocolVersion: 4 })).toBe(true);
        expect(chunks.length).toBe(1);
        expect([...chunks[0]!]).toEqual([header, 2, messageId >> 8, messageId & 0xff]);
        // and what a parser reads back
        const parser = mqttPacket.parser({ protocolVersion: 4 });
        const got: { cmd: string; messageId: number }[] = [];
        parser.on('packet', (p) => got.push(p as (typeof got)[number]));
        parser.parse(chunks[0]!);
        expect(got).toMatchObject([{ cmd, messageId }]);
      }
  });

  it('refuses a message id out of range before writing anything', () => {
    const { chunks, stream } = writes();
    expect(() => mqttPacket.writeToStream({ cmd: 'puback', messageId: 65536 }, stream, { protocolVersion: 4 })).toThrow(
      RangeError,
    );
    expect(chunks).toEqual([]);
  });

  it('leaves MQTT 5 acknowledgements (reason codes, properties) as they were', () => {
    const packet = { cmd: 'puback', messageId: 7, reasonCode: 16, properties: { reasonString: 'no subscribers' } };
    const bytes = mqttPacket.generate(packet, { protocolVersion: 5 });
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const got: unknown[] = [];
    parser.on('packet', (p) => got.push(p));
    parser.parse(bytes);
    expect(got).toMatchObject([packet]);
    expect([...mqttPacket.generate({ cmd: 'puback', messageId: 7, reasonCode: 0 }, { protocolVersion: 5 })]).toEqual([
      0x40, 2, 0, 7,
    ]);
  });
});
