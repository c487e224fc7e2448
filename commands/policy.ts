import { PlatformError } from '../core/errors.ts';
import type { Role } from '../web/auth/roles.ts';
import type { ParticipantRole } from '../remote/types.ts';
import type { CheckedCommand } from './catalogue.ts';
import './errors.ts';

export interface CommandPolicyDeps {
  /** The account's role in a *live* remote session on the vehicle, or null when it is in none. */
  liveSessionRole(accountId: string, vehicleId: string): Promise<ParticipantRole | null>;
  /** Whether the account is the duty lead (`DUTY_LEAD`). */
  isDutyLead(accountId: string): boolean;
}

export interface CommandSenderAccount {
  id: string;
  role: Role;
}

/** Checks a command before it is sent; throws COMMAND_NOT_ALLOWED or CONFIRMATION_REQUIRED. */
export type CommandPolicy = (
  account: CommandSenderAccount,
  vehicleId: string,
  command: Pick<CheckedCommand, 'name' | 'changesPower'>,
  confirmed: boolean,
) => Promise<void>;

/**
 * Who may send what:
 * - customers never (not even to their own unit's vehicles);
 * - staff (admin, dispatcher, engineer) may send a command that does not change the power state to any vehicle;
 * - a power-changing command only from the duty lead, or from an engineer who is the lead or an observer
 *   in a live remote session on that vehicle — and only with `confirmed` (the console's second confirmation).
 */
export function createCommandPolicy(deps: CommandPolicyDeps): CommandPolicy {
  return async (account, vehicleId, command, confirmed) => {
    if (account.role === 'customer')
      throw new PlatformError('COMMAND_NOT_ALLOWED', 'customer accounts cannot send commands to vehicles');
    if (!command.changesPower) return;
    if (!deps.isDutyLead(account.id)) {
      const inSession = account.role === 'engineer' ? await deps.liveSessionRole(account.id, vehicleId) : null;
      if (inSession !== 'lead' && inSession !== 'observer')
        throw new PlatformError(
          'COMMAND_NOT_ALLOWED',
          `${command.name} changes the power state: only the duty lead, or an engineer leading or observing a live remote session on ${vehicleId}, may send it`,
        );
    }
    if (!confirmed)
      throw new PlatformError(
        'CONFIRMATION_REQUIRED',
        `${command.name} changes the power state of ${vehicleId}: confirm it (send confirmed: true)`,
      );
  };
}
