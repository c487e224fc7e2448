import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { createSessionStore, topicMatches } from '../../broker/session-store.ts';

// the matcher aedes-persistence used, resolved as it resolves it
const fromPersistence = createRequire(createRequire(import.meta.url).resolve('aedes-persistence'));
const { QlobberTrue } = fromPersistence('qlobber') as {
  QlobberTrue: new (o: { wildcard_one: string; wildcard_some: string; separator: string }) => {
    add(topic: string): void;
    test(topic: string): boolean;
  };
};

interface Retained {
  storeRetained(p: { topic: string; payload: Buffer; retain?: boolean; qos?: number }): Promise<void>;
  createRetainedStream(filter: string): AsyncIterable<{ topic: string; payload: Buffer }>;
  createRetainedStreamCombi(filters: string[]): AsyncIterable<{ topic: string; payload: Buffer }>;
}

async function read(stream: AsyncIterable<{ topic: string; payload: Buffer }>) {
  const out: string[] = [];
  for await (const p of stream) out.push(`${p.topic}=${p.payload.toString()}`);
  return out;
}

describe('the broker session store: retained messages', () => {
  const topics = [
    'v1/vehicles/VA1/status',
    'v1/vehicles/VA1/telemetry/confirmed',
    'v1/vehicles/VB1/status',
    'v1/vehicles//status',
    'v1/vehicles/VA1',
    'v1/vehicles',
    '$SYS/broker/x',
    'a',
    'a/b',
    'a/b/c',
    '/a',
    'a/',
    'a//b',
    '//',
    // (no empty topic: MQTT has none, aedes refuses a PUBLISH without one)
  ];
  const filters = [
    ...topics,
    '#',
    '+',
    'v1/#',
    'v1/vehicles/#',
    'v1/vehicles/+/status',
    'v1/+/+/status',
    'v1/vehicles/+',
    'a/#',
    'a/+',
    '+/+',
    '+/b/#',
    '/+',
    '$SYS/#',
  ];

  it('matches a filter against a topic as aedes-persistence did (qlobber)', () => {
    for (const f of filters) {
      const q = new QlobberTrue({ wildcard_one: '+', wildcard_some: '#', separator: '/' });
      q.add(f);
      for (const t of topics) expect(topicMatches(f, t), `${f} ~ ${t}`).toBe(q.test(t));
    }
  });

  it('answers a SUBSCRIBE with the retained messages its filters match, per filter in order; an empty payload removes one', async () => {
    const s = createSessionStore() as unknown as Retained;
    for (const t of ['v1/vehicles/VA1/status', 'v1/vehicles/VB1/status', 'v1/vehicles/VA1/telemetry/confirmed'])
      await s.storeRetained({ topic: t, payload: Buffer.from(t.split('/')[2]!), retain: true, qos: 1 });
    expect(await read(s.createRetainedStream('v1/vehicles/VA1/status'))).toEqual(['v1/vehicles/VA1/status=VA1']);
    expect(await read(s.createRetainedStream('v1/vehicles/VC1/status'))).toEqual([]);
    expect(await read(s.createRetainedStream('v1/vehicles/+/status'))).toEqual([
      'v1/vehicles/VA1/status=VA1',
      'v1/vehicles/VB1/status=VB1',
    ]);
    expect(
      await read(s.createRetainedStreamCombi(['v1/vehicles/VA1/telemetry/confirmed', 'v1/vehicles/VB1/#'])),
    ).toEqual(['v1/vehicles/VA1/telemetry/confirmed=VA1', 'v1/vehicles/VB1/status=VB1']);
    // replaced, then removed
    await s.storeRetained({ topic: 'v1/vehicles/VA1/status', payload: Buffer.from('again') });
    expect(await read(s.createRetainedStream('v1/vehicles/VA1/status'))).toEqual(['v1/vehicles/VA1/status=again']);
    await s.storeRetained({ topic: 'v1/vehicles/VA1/status', payload: Buffer.alloc(0) });
    expect(await read(s.createRetainedStream('v1/vehicles/#'))).toEqual([
      'v1/vehicles/VB1/status=VB1',
      'v1/vehicles/VA1/telemetry/confirmed=VA1',
    ]);
  });

  it('keeps its own copy of a retained packet, as aedes-persistence did', async () => {
    const s = createSessionStore() as unknown as Retained;
    const packet = { topic: 'a/b', payload: Buffer.from('1') };
    await s.storeRetained(packet);
    packet.topic = 'changed';
    expect(await read(s.createRetainedStream('a/b'))).toEqual(['a/b=1']);
  });
});
