import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformEvents } from '../../core/events.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { closed, inbox, refusalCode, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The provisioning CLI runs in another process against the same DATA_DIR as the running platform. */
describe('registry changes from another process', () => {
  let tp: TestPlatform;

  beforeAll(async () => {
    tp = await startTestPlatform();
  });
  afterAll(async () => {
    await tp?.close();
  });

  async function cli(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run('npx', ['tsx', 'registry/cli.ts', ...args, '--json'], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: tp.dataDir, LOG_LEVEL: 'silent' },
      timeout: 30_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  }

  /** Resolves with the reason the platform gives when `vehicleId`'s session next ends. */
  function nextDisconnect(vehicleId: string): Promise<string> {
    return withTimeout(
      new Promise<string>((resolve) => {
        const off = tp.platform.bus.on('vehicle.disconnected', (e: PlatformEvents['vehicle.disconnected']) => {
          if (e.vehicleId === vehicleId) {
            off();
            resolve(e.reason);
          }
        });
      }),
      5000,
      `${vehicleId} to be disconnected`,
    );
  }

  /** Resolves when the platform's registry watcher has passed on `change` of `vehicleId`. */
  function changeSeen(vehicleId: string, change: PlatformEvents['registry.changed']['change']): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve) => {
        const off = tp.platform.bus.on('registry.changed', (e: PlatformEvents['registry.changed']) => {
          if (e.id === vehicleId && e.change === change) {
            off();
            resolve();
          }
        });
      }),
      5000,
      `the registry watcher to see ${vehicleId} ${change}`,
    );
  }
  /** The fleet as the fleet list reads it (the registry's list, kept in memory between changes). */
  const listed = async () => (await tp.platform.vehicles.list()).map((v) => `${v.id}@${v.customerId}`);

  it('add, rotate-secret and remove take effect at the next CONNECT and close the live session', async () => {
    // not provisioned yet
    expect(await refusalCode(tp, 'V9', 'anything')).toBe(4);
    expect(await listed()).toEqual([]);

    const addSeen = changeSeen('V9', 'added');
    const added = await cli('add', 'V9', '--customer', 'C1');
    expect(added).toEqual({ id: 'V9', secret: expect.any(String) });
    const firstSecret = added.secret as string;
    expect(firstSecret.length).toBeGreaterThanOrEqual(32);

    // the very next CONNECT works, with no restart or wait
    const live = await tp.connect('V9', firstSecret);
    const received = inbox(live);
    await live.subscribeAsync(vehicleTopic('V9', 'commands'), { qos: 1 });
    await tp.platform.broker.publishToVehicle('V9', 'commands', { id: 'c1', ts: Date.now(), name: 'ping', args: {} });
    await received.waitFor((m) => (m.json as { id?: string }).id === 'c1', 5000, 'a command');
    expect((await tp.platform.vehicles.get('V9'))?.customerId).toBe('C1');
    // the fleet list has it within one registry poll
    await addSeen;
    expect(await listed()).toEqual(['V9@C1']);

    // rotating the secret closes the live session within one registry poll
    const rotatedClose = closed(live);
    const rotatedReason = nextDisconnect('V9');
    const rotated = await cli('rotate-secret', 'V9');
    expect(rotated).toEqual({ id: 'V9', secret: expect.any(String) });
    const secondSecret = rotated.secret as string;
    expect(secondSecret).not.toBe(firstSecret);
    await rotatedClose;
    expect(await rotatedReason).toBe('secret rotated');

    expect(await refusalCode(tp, 'V9', firstSecret)).toBe(4);
    const again = await tp.connect('V9', secondSecret);
    expect(again.connected).toBe(true);

    // a transfer moves it to another unit from now on (the live session stays)
    const transferSeen = changeSeen('V9', 'updated');
    expect(await cli('transfer', 'V9', '--customer', 'C2')).toEqual({ id: 'V9', from: 'C1', to: 'C2' });
    expect((await tp.platform.vehicles.get('V9'))?.customerId).toBe('C2');
    await transferSeen;
    expect(await listed()).toEqual(['V9@C2']);
    expect(await tp.platform.vehicles.list({ customerId: 'C1' })).toEqual([]);

    // removing the vehicle closes the live session and refuses the next CONNECT
    const removedClose = closed(again);
    const removedReason = nextDisconnect('V9');
    expect(await cli('remove', 'V9')).toEqual({ id: 'V9', removed: true });
    await removedClose;
    expect(await removedReason).toBe('account removed');
    expect(await refusalCode(tp, 'V9', secondSecret)).toBe(4);
    expect(await tp.platform.vehicles.get('V9')).toBeUndefined();
    expect(await listed()).toEqual([]);
    expect(tp.platform.counters.get('mqtt.connect_refused', 'unknown_account')).toBe(2);
    expect(tp.platform.counters.get('mqtt.connect_refused', 'bad_secret')).toBe(1);
  }, 60_000);
});
