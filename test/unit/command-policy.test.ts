import { describe, expect, it } from 'vitest';
import { checkCommand, POWER_COMMANDS } from '../../commands/catalogue.ts';
import { createCommandPolicy } from '../../commands/policy.ts';
import type { ParticipantRole } from '../../remote/types.ts';
import type { Role } from '../../web/auth/roles.ts';

/** commands/policy.ts and commands/catalogue.ts over injected session roles and duty lead. */
describe('the command policy', () => {
  const roles = new Map<string, ParticipantRole>([
    ['lead-eng V1', 'lead'],
    ['obs-eng V1', 'observer'],
    ['crew-eng V1', 'crew'],
    ['disp V1', 'lead'],
  ]);
  const policy = createCommandPolicy({
    liveSessionRole: async (accountId, vehicleId) => roles.get(`${accountId} ${vehicleId}`) ?? null,
    isDutyLead: (accountId) => accountId === 'duty',
  });
  const verdict = (id: string, role: Role, vehicleId: string, name: string, confirmed = true) =>
    policy(
      { id, role },
      vehicleId,
      checkCommand(name, name === 'switchSource' ? { source: 'auto' } : {}),
      confirmed,
    ).then(
      () => 'ok',
      (err: { code: string }) => err.code,
    );

  it('the catalogue marks exactly the power-changing commands', () => {
    expect(POWER_COMMANDS).toEqual(['startGenerator', 'stopGenerator', 'switchSource', 'resetFault']);
  });

  it('power commands: the lead or an observer engineer of a live session on that vehicle, or the duty lead', async () => {
    expect(await verdict('lead-eng', 'engineer', 'V1', 'startGenerator')).toBe('ok');
    expect(await verdict('obs-eng', 'engineer', 'V1', 'switchSource')).toBe('ok');
    expect(await verdict('duty', 'dispatcher', 'V9', 'stopGenerator')).toBe('ok');
    expect(await verdict('lead-eng', 'engineer', 'V2', 'startGenerator')).toBe('COMMAND_NOT_ALLOWED');
    expect(await verdict('crew-eng', 'engineer', 'V1', 'resetFault')).toBe('COMMAND_NOT_ALLOWED');
    // a dispatcher is not an engineer, even when a session names it
    expect(await verdict('disp', 'dispatcher', 'V1', 'startGenerator')).toBe('COMMAND_NOT_ALLOWED');
    expect(await verdict('admin', 'admin', 'V1', 'startGenerator')).toBe('COMMAND_NOT_ALLOWED');
  });

  it('power commands need the second confirmation, from someone allowed to send them', async () => {
    expect(await verdict('lead-eng', 'engineer', 'V1', 'startGenerator', false)).toBe('CONFIRMATION_REQUIRED');
    expect(await verdict('duty', 'engineer', 'V1', 'stopGenerator', false)).toBe('CONFIRMATION_REQUIRED');
    expect(await verdict('eng', 'engineer', 'V1', 'stopGenerator', false)).toBe('COMMAND_NOT_ALLOWED');
  });

  it('other commands: any staff to any vehicle, unconfirmed; customers never, the duty lead’s name does not help', async () => {
    for (const role of ['admin', 'dispatcher', 'engineer'] as const)
      expect(await verdict('x', role, 'V7', 'snapshot', false)).toBe('ok');
    expect(await verdict('cust', 'customer', 'V1', 'snapshot')).toBe('COMMAND_NOT_ALLOWED');
    expect(await verdict('duty', 'customer', 'V1', 'startGenerator')).toBe('COMMAND_NOT_ALLOWED');
  });

  it('the catalogue refuses unknown names and bad arguments, naming each', () => {
    expect(() => checkCommand('backfill', { fromSeq: 1, toSeq: 2 })).toThrow(
      expect.objectContaining({ code: 'COMMAND_UNKNOWN' }),
    );
    expect(() => checkCommand('toString', {})).toThrow(expect.objectContaining({ code: 'COMMAND_UNKNOWN' }));
    expect(() => checkCommand('resetFault', { code: 'A', fault: 'B' })).toThrow(/give code or fault, not both/);
    expect(() => checkCommand('setTelemetryRate', { hz: '5' })).toThrow(/args\.hz: must be a number/);
    expect(checkCommand('setTelemetryRate', { hz: 0.5 })).toEqual({
      name: 'setTelemetryRate',
      args: { hz: 0.5 },
      changesPower: false,
    });
    // the end of a remote session: back to the gateway's base rate
    expect(checkCommand('setTelemetryRate', { hz: 'default' }).args).toEqual({ hz: 'default' });
    expect(() => checkCommand('setTelemetryRate', { hz: 'default', durationS: 60 })).toThrow(
      /args\.durationS: does not go with hz 'default'/,
    );
    expect(() => checkCommand('setTelemetryRate', {})).toThrow(/args\.hz: must be a number/);
    expect(() => checkCommand('setTelemetryRate', { hz: 11 })).toThrow(/args\.hz: must be at most 10/);
    expect(() => checkCommand('setTelemetryRate', { hz: 0 })).toThrow(/args\.hz: must be at least 0\.01/);
  });
});
