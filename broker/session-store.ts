import { Readable } from 'node:stream';
import aedesPersistence from 'aedes-persistence';

interface EnqueueTarget {
  clientId: string;
}

type Enqueue = (sub: EnqueueTarget, packet: unknown, cb?: unknown) => unknown;
type EnqueueCombi = (subs: EnqueueTarget[], packet: unknown, cb?: unknown) => unknown;

interface RetainedPacket {
  topic: string;
  payload: { length: number };
}

/**
 * Whether an MQTT topic filter matches a topic, as aedes-persistence's matcher (qlobber with `+`, `#`
 * and `/`) answers it: `+` is one level that is not empty (qlobber's reading; MQTT's would also
 * take an empty one), `#` is the rest, also none ("a/#" matches "a").
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] === '+' ? t[i] === '' : f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

const hasWildcard = (filter: string) => filter.includes('+') || filter.includes('#');

/**
 * The retained messages, by topic. aedes-persistence finds those for a SUBSCRIBE by testing every
 * retained topic against the filter: with a retained status and confirmation per vehicle, a fleet
 * reconnecting after a restart cost O(vehicles²) topic tests on the main thread (2,000 simulated
 * gateways subscribing to three topics each: ≈ 10 s of main thread, half of it splitting topics,
 * while every connected vehicle's PUBACK waited; docs/benchmarks.md, simulate). A filter without a
 * wildcard — every vehicle's own topics — is now one lookup; a filter with one is matched against
 * every topic, as before.
 */
function* retainedFor(retained: Map<string, RetainedPacket>, filters: readonly string[]): Generator<RetainedPacket> {
  for (const filter of filters) {
    if (!hasWildcard(filter)) {
      const p = retained.get(filter);
      if (p) yield p;
      continue;
    }
    for (const [topic, p] of retained) if (topicMatches(filter, topic)) yield p;
  }
}

/**
 * The single-node broker's session store: aedes' own in-memory persistence (subscriptions, QoS 1/2
 * queues of persistent sessions, retained messages, wills), which also answers whether a client
 * may have messages queued (`outgoingPending`).
 *
 * Why: at every CONNECT aedes streams the client's queue back to it through a stream pipeline
 * (`emptyQueue` in aedes' connect handler) — two `Readable`s, a `Transform`, a pipeline with its
 * end-of-stream watchers and `AbortSignal`, ≈ 11 KB — also when the queue is empty, as it is for
 * almost every vehicle. In a reconnect storm each connect takes long enough for those to be promoted
 * to the old generation, so 10,000 vehicles reconnecting left ≈ 50 MB of garbage in the heap that an
 * idle process keeps (docs/benchmarks.md, "What an idle connection costs"). aedes, as patched here
 * (patches/aedes+*.patch, applied by `npm ci`), asks `outgoingPending` first and skips the pipeline
 * when it says no.
 *
 * Only `outgoingEnqueue` and `outgoingEnqueueCombi` put messages in this persistence's queues, and it
 * starts empty with the process, so a client id none of them was called for has an empty queue. A
 * client once queued for stays "pending" (its queue is then streamed at each connect, as before) —
 * never wrong, just not spared. A persistence shared by several nodes (cluster mode, Redis) keeps
 * queues across processes and is not wrapped: aedes streams its queues at every connect.
 *
 * The retained messages are kept here too, found by topic (`retainedFor`).
 */
export function createSessionStore(): object {
  // a CommonJS module whose `module.exports` is the factory (its types declare a default export)
  const memoryPersistence = aedesPersistence as unknown as () => unknown;
  const persistence = memoryPersistence() as {
    outgoingEnqueue: Enqueue;
    outgoingEnqueueCombi: EnqueueCombi;
    outgoingPending?: (client: { id: string }) => boolean;
  };
  if (typeof persistence.outgoingEnqueue !== 'function' || typeof persistence.outgoingEnqueueCombi !== 'function')
    throw new Error('aedes-persistence has no outgoingEnqueue/outgoingEnqueueCombi: its queues cannot be tracked');
  const queued = new Set<string>();
  const enqueue = persistence.outgoingEnqueue;
  const enqueueCombi = persistence.outgoingEnqueueCombi;
  persistence.outgoingEnqueue = function (sub, packet, cb) {
    queued.add(sub.clientId);
    return enqueue.call(this, sub, packet, cb);
  };
  persistence.outgoingEnqueueCombi = function (subs, packet, cb) {
    for (const sub of subs) queued.add(sub.clientId);
    return enqueueCombi.call(this, subs, packet, cb);
  };
  persistence.outgoingPending = (client) => queued.has(client.id);
  // retained messages: kept here instead of in aedes-persistence (its own map stays empty)
  const retained = new Map<string, RetainedPacket>();
  Object.assign(persistence, {
    async storeRetained(packet: RetainedPacket) {
      if (packet.payload.length === 0) retained.delete(packet.topic);
      else retained.set(packet.topic, { ...packet });
    },
    createRetainedStream: (filter: string) => Readable.from(retainedFor(retained, [filter])),
    createRetainedStreamCombi: (filters: string[]) => Readable.from(retainedFor(retained, filters)),
  });
  return persistence;
}
