/** Administration: accounts (create, disable, reset password), customer units, vehicles (provision, new secret, remove), the audit log. */
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox, OnlineDot } from '../components/badges.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, useLang, type MessageKey } from '../i18n.ts';
import type { Account, AuditEntry, Customer, Role, VehicleState } from '../types.ts';

type Tab = 'accounts' | 'customers' | 'vehicles' | 'audit';
const ROLES: Role[] = ['admin', 'dispatcher', 'engineer', 'customer'];

export function Admin() {
  useLang();
  const [tab, setTab] = useState<Tab>('accounts');
  return (
    <div class="view admin">
      <div class="tabs" role="tablist">
        {(['accounts', 'customers', 'vehicles', 'audit'] as Tab[]).map((x) => (
          <button
            type="button"
            role="tab"
            key={x}
            aria-selected={tab === x}
            class={tab === x ? 'active' : ''}
            onClick={() => setTab(x)}
          >
            {t(`admin.${x}` as MessageKey)}
          </button>
        ))}
      </div>
      {tab === 'accounts' && <Accounts />}
      {tab === 'customers' && <Customers />}
      {tab === 'vehicles' && <Vehicles />}
      {tab === 'audit' && <Audit />}
    </div>
  );
}

/** Shows a secret once, with the action's error if any. */
function useOutcome() {
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const run = async (fn: () => Promise<string | null | void>) => {
    setErr(null);
    setMsg(null);
    try {
      setMsg((await fn()) ?? null);
    } catch (x) {
      setErr(errorText(x));
    }
  };
  const view = (
    <>
      {msg && (
        <div class="notice secret" role="status">
          {msg}
        </div>
      )}
      {err && (
        <div class="error" role="alert">
          {err}
        </div>
      )}
    </>
  );
  return { run, view };
}

function Accounts() {
  const list = useLoad(() => api.get<{ accounts: Account[] }>('/api/accounts'), []);
  const customers = useLoad(() => api.get<{ customers: Customer[] }>('/api/customers'), []);
  const out = useOutcome();
  const [form, setForm] = useState({ id: '', name: '', role: 'engineer' as Role, customerId: '' });
  return (
    <section>
      <h2>{t('admin.accounts')}</h2>
      {out.view}
      <ErrorBox error={list.error} />
      <table class="grid">
        <thead>
          <tr>
            <th>{t('admin.account.id')}</th>
            <th>{t('common.name')}</th>
            <th>{t('admin.account.role')}</th>
            <th>{t('common.customer')}</th>
            <th>{t('admin.account.lastLogin')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(list.data?.accounts ?? []).map((a) => (
            <tr key={a.id} class={a.disabled ? 'disabled' : ''}>
              <td>{a.id}</td>
              <td>{a.name}</td>
              <td>{t(`role.${a.role}` as MessageKey)}</td>
              <td>{a.customerId ?? '—'}</td>
              <td>{dateTime(a.lastLoginAt)}</td>
              <td class="actions">
                <button
                  type="button"
                  onClick={() =>
                    out.run(
                      async () =>
                        void (await api.patch(`/api/accounts/${a.id}`, { disabled: !a.disabled }), list.reload()),
                    )
                  }
                >
                  {a.disabled ? t('admin.account.enable') : t('admin.account.disable')}
                </button>
                <button
                  type="button"
                  onClick={() =>
                    out.run(async () => {
                      const r = await api.post<{ password: string }>(`/api/accounts/${a.id}/reset-password`, {});
                      return t('admin.oneTimePassword', { id: a.id, pw: r.password });
                    })
                  }
                >
                  {t('admin.account.reset')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="card inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void out.run(async () => {
            const r = await api.post<{ account: Account; password?: string }>('/api/accounts', {
              id: form.id,
              name: form.name,
              role: form.role,
              ...(form.role === 'customer' ? { customerId: form.customerId } : {}),
            });
            list.reload();
            setForm({ id: '', name: '', role: form.role, customerId: form.customerId });
            return r.password ? t('admin.oneTimePassword', { id: r.account.id, pw: r.password }) : null;
          });
        }}
      >
        <input
          placeholder={t('admin.account.id')}
          required
          value={form.id}
          onInput={(e) => setForm({ ...form, id: e.currentTarget.value })}
        />
        <input
          placeholder={t('common.name')}
          required
          value={form.name}
          onInput={(e) => setForm({ ...form, name: e.currentTarget.value })}
        />
        <select value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value as Role })}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}` as MessageKey)}
            </option>
          ))}
        </select>
        {form.role === 'customer' && (
          <select
            required
            value={form.customerId}
            onChange={(e) => setForm({ ...form, customerId: e.currentTarget.value })}
          >
            <option value="">{t('common.customer')}</option>
            {(customers.data?.customers ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.id} — {c.name}
              </option>
            ))}
          </select>
        )}
        <button type="submit" class="primary">
          {t('common.create')}
        </button>
      </form>
    </section>
  );
}

function Customers() {
  const list = useLoad(() => api.get<{ customers: Customer[] }>('/api/customers'), []);
  const out = useOutcome();
  const [form, setForm] = useState({ id: '', name: '' });
  return (
    <section>
      <h2>{t('admin.customers')}</h2>
      {out.view}
      <ErrorBox error={list.error} />
      <table class="grid">
        <thead>
          <tr>
            <th>{t('admin.customer.id')}</th>
            <th>{t('common.name')}</th>
            <th>{t('admin.customer.vehicles')}</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.customers ?? []).map((c) => (
            <tr key={c.id}>
              <td>{c.id}</td>
              <td>{c.name}</td>
              <td>{c.vehicleCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="card inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void out.run(async () => {
            await api.post('/api/customers', form);
            setForm({ id: '', name: '' });
            list.reload();
          });
        }}
      >
        <input
          placeholder={t('admin.customer.id')}
          required
          value={form.id}
          onInput={(e) => setForm({ ...form, id: e.currentTarget.value })}
        />
        <input
          placeholder={t('common.name')}
          required
          value={form.name}
          onInput={(e) => setForm({ ...form, name: e.currentTarget.value })}
        />
        <button type="submit" class="primary">
          {t('common.create')}
        </button>
      </form>
    </section>
  );
}

function Vehicles() {
  const list = useLoad(() => api.get<{ vehicles: VehicleState[] }>('/api/vehicles'), []);
  const customers = useLoad(() => api.get<{ customers: Customer[] }>('/api/customers'), []);
  const out = useOutcome();
  const [form, setForm] = useState({ id: '', customerId: '', name: '', model: '' });
  return (
    <section>
      <h2>{t('admin.vehicles')}</h2>
      {out.view}
      <ErrorBox error={list.error} />
      <table class="grid">
        <thead>
          <tr>
            <th>{t('admin.vehicle.id')}</th>
            <th>{t('common.name')}</th>
            <th>{t('admin.vehicle.model')}</th>
            <th>{t('common.customer')}</th>
            <th>{t('fleet.col.online')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(list.data?.vehicles ?? []).map((v) => (
            <tr key={v.id}>
              <td>{v.id}</td>
              <td>{v.name}</td>
              <td>{v.model}</td>
              <td>{v.customerId}</td>
              <td>
                <OnlineDot online={v.online} />
              </td>
              <td class="actions">
                <button
                  type="button"
                  onClick={() =>
                    out.run(async () => {
                      const r = await api.post<{ secret: string }>(
                        `/api/vehicles/${encodeURIComponent(v.id)}/rotate-secret`,
                        {},
                      );
                      return t('admin.vehicle.secret', { id: v.id, secret: r.secret });
                    })
                  }
                >
                  {t('admin.vehicle.rotate')}
                </button>
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    confirm(t('admin.vehicle.confirmRemove', { id: v.id })) &&
                    out.run(
                      async () => void (await api.del(`/api/vehicles/${encodeURIComponent(v.id)}`), list.reload()),
                    )
                  }
                >
                  {t('common.remove')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="card inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void out.run(async () => {
            const r = await api.post<{ vehicle: VehicleState; secret: string }>('/api/vehicles', {
              id: form.id,
              customerId: form.customerId,
              ...(form.name.trim() ? { name: form.name } : {}),
              ...(form.model.trim() ? { model: form.model } : {}),
            });
            setForm({ ...form, id: '', name: '' });
            list.reload();
            return t('admin.vehicle.secret', { id: r.vehicle.id, secret: r.secret });
          });
        }}
      >
        <input
          placeholder={t('admin.vehicle.id')}
          required
          value={form.id}
          onInput={(e) => setForm({ ...form, id: e.currentTarget.value })}
        />
        <select
          required
          value={form.customerId}
          onChange={(e) => setForm({ ...form, customerId: e.currentTarget.value })}
        >
          <option value="">{t('common.customer')}</option>
          {(customers.data?.customers ?? []).map((c) => (
            <option key={c.id} value={c.id}>
              {c.id} — {c.name}
            </option>
          ))}
        </select>
        <input
          placeholder={t('common.name')}
          value={form.name}
          onInput={(e) => setForm({ ...form, name: e.currentTarget.value })}
        />
        <input
          placeholder={t('admin.vehicle.model')}
          value={form.model}
          onInput={(e) => setForm({ ...form, model: e.currentTarget.value })}
        />
        <button type="submit" class="primary">
          {t('common.create')}
        </button>
      </form>
    </section>
  );
}

function Audit() {
  const list = useLoad(() => api.get<{ entries: AuditEntry[] }>('/api/audit', { limit: 300 }), []);
  return (
    <section>
      <h2>{t('admin.audit')}</h2>
      <ErrorBox error={list.error} />
      <table class="grid">
        <thead>
          <tr>
            <th>{t('common.at')}</th>
            <th>{t('common.by')}</th>
            <th>{t('admin.audit.action')}</th>
            <th>{t('admin.audit.subject')}</th>
            <th>IP</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.entries ?? []).map((e) => (
            <tr key={e.id}>
              <td>{dateTime(e.at)}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td>{e.subject ?? '—'}</td>
              <td class="muted">{e.ip ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
