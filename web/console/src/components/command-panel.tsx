/**
 * The "Commands" panel of a staff vehicle page: a button per operator command with its arguments,
 * a second confirmation naming the vehicle and the effect for the commands that change the power
 * state, and the vehicle's recent commands with their state as the platform reports it (sent… /
 * done / refused: the gateway's reason / no answer — never "done" without the gateway's ack).
 * The list updates from the live channel (`command`), so another operator's commands appear too.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, type MessageKey } from '../i18n.ts';
import { onLive } from '../live.ts';
import type { CommandRecord, OperatorCommandName } from '../types.ts';

/** The catalogue's commands (commands/catalogue.ts) in the order shown; `power`: second confirmation. */
const COMMANDS: Record<OperatorCommandName, { power: boolean }> = {
  snapshot: { power: false },
  setTelemetryRate: { power: false },
  startGenerator: { power: true },
  stopGenerator: { power: true },
  switchSource: { power: true },
  resetFault: { power: true },
};
const SOURCES = ['auto', 'mains', 'generator', 'battery'] as const;

const nameKey = (n: string) => `cmd.name.${n}` as MessageKey;

function upsert(list: CommandRecord[], c: CommandRecord): CommandRecord[] {
  const i = list.findIndex((x) => x.id === c.id);
  if (i < 0) return [c, ...list].slice(0, 50);
  // a late `sent` never overwrites a settlement
  if (c.state === 'sent' && list[i]!.state !== 'sent') return list;
  return list.map((x, j) => (j === i ? c : x));
}

export function CommandState({ c }: { c: CommandRecord }) {
  switch (c.state) {
    case 'sent':
      return <span class="badge cmd-sent">{t('cmd.state.sent')}</span>;
    case 'done':
      return <span class="badge cmd-done">{t('cmd.state.done')}</span>;
    case 'refused':
      return (
        <span>
          <span class="badge cmd-refused">{t('cmd.state.refused')}</span> {c.error}
        </span>
      );
    case 'no_answer':
      return (
        <span>
          <span class="badge cmd-no-answer">{t('cmd.state.no_answer')}</span>{' '}
          {c.lateAck && (
            <span class="muted">
              {t(c.lateAck.ok ? 'cmd.lateAck.ok' : 'cmd.lateAck.refused', {
                at: dateTime(c.lateAck.at),
                reason: c.lateAck.error ?? '',
              })}
            </span>
          )}
        </span>
      );
  }
}

export function CommandPanel({
  vehicleId,
  vehicleName,
  online,
  sessionId,
}: {
  vehicleId: string;
  vehicleName: string;
  online: boolean;
  /** Sent from a live remote session: the command and its ack go on the session's timeline. */
  sessionId?: number;
}) {
  const recent = useLoad(
    () =>
      api.get<{ commands: CommandRecord[] }>(`/api/vehicles/${encodeURIComponent(vehicleId)}/commands`, { limit: 20 }),
    [vehicleId],
  );
  const [hz, setHz] = useState('1');
  const [durationS, setDurationS] = useState('');
  const [source, setSource] = useState<(typeof SOURCES)[number]>('auto');
  const [faultCode, setFaultCode] = useState('');
  const [confirming, setConfirming] = useState<{ name: OperatorCommandName; args: Record<string, unknown> } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);

  useEffect(
    () =>
      onLive('command', (m) => {
        if (m.command.vehicleId === vehicleId)
          recent.setData((d) => (d ? { ...d, commands: upsert(d.commands, m.command) } : d));
      }),
    [vehicleId],
  );

  function argsOf(name: OperatorCommandName): Record<string, unknown> {
    switch (name) {
      case 'setTelemetryRate':
        return { hz: Number(hz), ...(durationS.trim() ? { durationS: Number(durationS) } : {}) };
      case 'switchSource':
        return { source };
      case 'resetFault':
        return faultCode.trim() ? { code: faultCode.trim() } : {};
      default:
        return {};
    }
  }

  async function send(name: OperatorCommandName, args: Record<string, unknown>, confirmed: boolean) {
    setError(null);
    // our own id: a retry of this request can never run the command twice
    const id = `ui-${crypto.randomUUID()}`;
    const pending: CommandRecord = {
      id,
      vehicleId,
      name,
      args,
      actor: '',
      sessionId: sessionId ?? null,
      sentAt: Date.now(),
      state: 'sent',
      settledAt: null,
      result: null,
      error: null,
    };
    try {
      const sending = api.post<CommandRecord>(`/api/vehicles/${encodeURIComponent(vehicleId)}/commands`, {
        id,
        name,
        args,
        ...(confirmed ? { confirmed: true } : {}),
        ...(sessionId !== undefined ? { sessionId } : {}),
      });
      recent.setData((d) => (d ? { ...d, commands: upsert(d.commands, pending) } : { commands: [pending] }));
      const settled = await sending;
      recent.setData((d) => (d ? { ...d, commands: upsert(d.commands, settled) } : d));
    } catch (err) {
      // not sent (offline, not allowed, bad arguments): take the placeholder out again
      recent.setData((d) => (d ? { ...d, commands: d.commands.filter((c) => c.id !== id || c.actor !== '') } : d));
      setError(errorText(err));
    }
  }

  function ask(name: OperatorCommandName) {
    const args = argsOf(name);
    if (COMMANDS[name].power) setConfirming({ name, args });
    else void send(name, args, false);
  }

  const button = (name: OperatorCommandName) => (
    <button
      type="button"
      class={COMMANDS[name].power ? 'danger' : ''}
      onClick={() => ask(name)}
      data-testid={`cmd-${name}`}
    >
      {t(nameKey(name))}
    </button>
  );

  return (
    <div class="card commands" data-testid="command-panel">
      {!online && <p class="muted">{t('cmd.offline')}</p>}
      <div class="toolbar">
        {button('snapshot')}
        <label>
          {t('cmd.hz')}{' '}
          <input
            type="number"
            min="0.01"
            max="10"
            step="0.01"
            value={hz}
            onInput={(e) => setHz(e.currentTarget.value)}
          />
        </label>
        <label>
          {t('cmd.durationS')}{' '}
          <input
            type="number"
            min="1"
            max="86400"
            step="1"
            value={durationS}
            placeholder={t('cmd.durationS.none')}
            onInput={(e) => setDurationS(e.currentTarget.value)}
          />
        </label>
        {button('setTelemetryRate')}
      </div>
      <div class="toolbar">
        <span class="muted">{t('cmd.powerHint')}</span>
        {button('startGenerator')}
        {button('stopGenerator')}
        <label>
          {t('cmd.source')}{' '}
          <select value={source} onChange={(e) => setSource(e.currentTarget.value as (typeof SOURCES)[number])}>
            {SOURCES.map((s) => (
              <option key={s} value={s}>
                {t(`cmd.source.${s}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        {button('switchSource')}
        <label>
          {t('cmd.faultCode')}{' '}
          <input
            value={faultCode}
            maxLength={32}
            placeholder={t('cmd.faultCode.any')}
            onInput={(e) => setFaultCode(e.currentTarget.value)}
          />
        </label>
        {button('resetFault')}
      </div>
      {error && (
        <p class="error" role="alert" data-testid="cmd-error">
          {error}
        </p>
      )}

      {confirming && (
        <div class="modal-backdrop">
          <div class="modal card" role="dialog" aria-modal="true" data-testid="cmd-confirm">
            <h3>
              {t('cmd.confirm.title', { name: t(nameKey(confirming.name)), id: vehicleId, vehicle: vehicleName })}
            </h3>
            <p>
              {t(`cmd.effect.${confirming.name}` as MessageKey, {
                source: t(`cmd.source.${String(confirming.args.source ?? 'auto')}` as MessageKey),
              })}
            </p>
            <p class="muted">{t('cmd.confirm.safety')}</p>
            <div class="toolbar">
              <button type="button" onClick={() => setConfirming(null)}>
                {t('common.cancel')}
              </button>
              <button
                type="button"
                class="danger"
                data-testid="cmd-confirm-send"
                onClick={() => {
                  const c = confirming;
                  setConfirming(null);
                  void send(c.name, c.args, true);
                }}
              >
                {t('cmd.confirm.send', { name: t(nameKey(confirming.name)), id: vehicleId })}
              </button>
            </div>
          </div>
        </div>
      )}

      <table class="grid" data-testid="cmd-list">
        <thead>
          <tr>
            <th>{t('common.at')}</th>
            <th>{t('cmd.col.command')}</th>
            <th>{t('common.by')}</th>
            <th>{t('common.status')}</th>
            <th>{t('cmd.col.result')}</th>
          </tr>
        </thead>
        <tbody>
          {(recent.data?.commands ?? []).map((c) => (
            <tr key={c.id} data-state={c.state}>
              <td>{dateTime(c.sentAt)}</td>
              <td>
                {t(nameKey(c.name))}
                {Object.keys(c.args).length > 0 && <span class="muted"> {JSON.stringify(c.args)}</span>}
              </td>
              <td>{c.actor}</td>
              <td>
                <CommandState c={c} />
              </td>
              <td class="muted">{c.state === 'done' && c.result != null ? JSON.stringify(c.result) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {recent.data && recent.data.commands.length === 0 && <p class="muted">{t('cmd.none')}</p>}
    </div>
  );
}
