import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { createInProcessBus, mergeBuses } from '../../core/bus.ts';

interface Events {
  'a.happened': { n: number };
}

describe('mergeBuses (the cluster view: this node’s events and the relayed ones)', () => {
  it('a listener hears both buses; emitting goes to the local bus only; off removes it from both', () => {
    const log = pino({ level: 'silent' });
    const local = createInProcessBus<Events>(log);
    const remote = createInProcessBus<Events>(log);
    const merged = mergeBuses(local, remote);
    const heard: number[] = [];
    const localOnly: number[] = [];
    local.on('a.happened', (e) => void localOnly.push(e.n));
    const off = merged.on('a.happened', (e) => void heard.push(e.n));
    expect(merged.listenerCount('a.happened')).toBe(3);
    local.emit('a.happened', { n: 1 });
    remote.emit('a.happened', { n: 2 });
    merged.emit('a.happened', { n: 3 });
    expect(heard).toEqual([1, 2, 3]);
    // the stages on the local bus never hear what another node relayed
    expect(localOnly).toEqual([1, 3]);
    off();
    local.emit('a.happened', { n: 4 });
    remote.emit('a.happened', { n: 5 });
    expect(heard).toEqual([1, 2, 3]);
    expect(remote.listenerCount('a.happened')).toBe(0);
  });
});
