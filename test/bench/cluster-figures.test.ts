import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PG_URL,
  failoverFigures,
  lossCheck,
  parseClusterArgs,
  phaseFigures,
  quantile,
  storedDelta,
} from '../../bench/cluster/figures.ts';

/** bench:cluster's pure parts: its bounded flags, and the figures it computes from what it measured. */
describe('bench:cluster settings', () => {
  it('has defaults that measure 1, 2 and 3 nodes, SQLite and a failover of 3 nodes', () => {
    const s = parseClusterArgs([]);
    expect(s).toMatchObject({
      vehicles: 500,
      nodes: [1, 2, 3],
      sqlite: true,
      pgUrl: DEFAULT_PG_URL,
      failover: { nodes: 3, gateways: 500, rounds: 2, rateHz: 1 },
    });
  });

  it('takes a node list and the skips', () => {
    const s = parseClusterArgs(['--nodes', '2', '--skip-sqlite', '--skip-failover', '--vehicles', '50']);
    expect(s).toMatchObject({ nodes: [2], sqlite: false, vehicles: 50 });
    expect(s).not.toHaveProperty('failover');
    // a failover needs at least two nodes, whatever the node list
    expect(parseClusterArgs(['--nodes', '1'])).toMatchObject({ failover: { nodes: 2 } });
    expect(parseClusterArgs(['--help'])).toBe('help');
  });

  it('refuses counts and times out of bounds, with the flag named', () => {
    expect(() => parseClusterArgs(['--vehicles', '100000'])).toThrow(/--vehicles must be between 1 and 5000/);
    expect(() => parseClusterArgs(['--nodes', '1,9'])).toThrow(/--nodes must be between 1 and 4/);
    expect(() => parseClusterArgs(['--nodes', '1,1'])).toThrow(/twice/);
    expect(() => parseClusterArgs(['--duration', 'long'])).toThrow(/--duration must be a number/);
    expect(() => parseClusterArgs(['--rounds', '50'])).toThrow(/--rounds must be between 1 and 5/);
    expect(() => parseClusterArgs(['--failover-nodes', '1'])).toThrow(/--failover-nodes/);
    expect(() => parseClusterArgs(['--pg-url', 'mysql://x'])).toThrow(/--pg-url/);
  });
});

describe('bench:cluster figures', () => {
  it('gives CPU per stored frame per node, in total and for PostgreSQL and Redis', () => {
    const f = phaseFigures({
      windowS: 10,
      framesByNode: [6000, 4000],
      cpuSByNode: [3, 2.4],
      postgresCpuS: 1,
      redisCpuS: 0.1,
      loadCpuS: 5,
      writes: { frames: 12_000, commits: 300, rowsInserted: 12_600 },
    });
    expect(f.framesPerS).toBe(1000);
    expect(f.nodeCpuPct).toEqual([30, 24]);
    expect(f.usPerFrameByNode).toEqual([500, 600]);
    expect(f.usPerFrameNodes).toBe(540);
    expect(f.usPerFramePostgres).toBe(100);
    expect(f.usPerFrameRedis).toBe(10);
    expect(f.usPerFrameServerSide).toBe(650);
    expect(f.postgresCpuPct).toBe(10);
    expect(f.loadCpuPct).toBe(50);
    expect(f.commitsPerFrame).toBe(0.025);
    expect(f.framesPerCommit).toBe(40);
    expect(f.rowsPerFrame).toBe(1.05);
  });

  it('leaves out what was not measured instead of inventing it', () => {
    const f = phaseFigures({ windowS: 5, framesByNode: [0], cpuSByNode: [1], loadCpuS: 0 });
    expect(f.usPerFrameByNode).toEqual([null]);
    expect(f.usPerFramePostgres).toBeNull();
    expect(f.commitsPerFrame).toBeNull();
    expect(f.framesPerS).toBe(0);
  });

  it('counts lost frames vehicle by vehicle, not in total', () => {
    const before = new Map([
      ['a', 10],
      ['b', 5],
    ]);
    const after = new Map([
      ['a', 20],
      ['b', 17],
    ]);
    const stored = storedDelta(before, after);
    expect(stored).toEqual(
      new Map([
        ['a', 10],
        ['b', 12],
      ]),
    );
    // b's extra stored frames do not hide a's missing ones
    const check = lossCheck(
      new Map([
        ['a', 11],
        ['b', 11],
      ]),
      stored,
    );
    expect(check).toEqual({ acked: 22, stored: 22, lost: 1, extra: 1 });
  });

  it('gives the failover percentiles and the time until the last gateway of each round was back', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    const f = failoverFigures([
      { node: 'node-1', onNode: 3, reconnectMs: [400, 900, 300], complete: true },
      { node: 'node-2', onNode: 2, reconnectMs: [500], complete: false },
    ]);
    expect(f).toEqual({ rounds: 2, onKilledNodes: 5, reconnected: 4, p50Ms: 400, maxMs: 900, allBackMs: [900, null] });
  });
});
