import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_TESTS, startTestCluster, type TestCluster } from '../helpers/cluster.ts';

describe.skipIf(!CLUSTER_TESTS)('cluster mode (REDIS_URL, records and telemetry on PostgreSQL)', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('starts two nodes on one database and one Redis; each is ready with Redis among its checks', async () => {
    cluster = await startTestCluster(2);
    for (const [i, node] of cluster.nodes.entries()) {
      const res = await fetch(`http://127.0.0.1:${node!.platform.ports.http}/readyz`);
      const body = (await res.json()) as { ready: boolean; node: string; checks: Record<string, { ok: boolean }> };
      expect(`${res.status} ${JSON.stringify(body)}`).toMatch(/^200 /);
      expect(body.node).toBe(`node-${i}`);
      expect(body.checks.redis?.ok).toBe(true);
    }
  });
});
