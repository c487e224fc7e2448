/** Administration: accounts (create, disable, reset password), customer units, vehicles (provision, new secret, remove), the audit log. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, errorText } from '../api.ts';
import { ErrorBox, OnlineDot } from '../components/badges.tsx';
import { DataTable, type Column } from '../components/data-table.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { t, useLang, type MessageKey } from '../i18n.ts';
import { useReauth } from '../reauth.tsx';
import { me } from '../session.ts';
import type { Account, AuditEntry, Customer, Role, VehicleState } from '../types.ts';

type Tab = 'accounts' | 'customers' | 'vehicles' | 'tokens' | 'audit';
const ROLES: Role[] = ['admin', 'dispatcher', 'engineer', 'supply', 'customer'];

export function Admin() {
  useLang();
  const [tab, setTab] = useState<Tab>('accounts');
  return (
    <div class="view admin">
      <div class="tabs" role="tablist">
        {(['accounts', 'customers', 'vehicles', 'tokens', 'audit'] as Tab[]).map((x) => (
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
      {tab === 'tokens' && <Tokens />}
      {tab === 'audit' && <Audit />}
    </div>
  );
}

/** One tab's page: its title, the outcome of the last action, the list's load error, then the list (and form). */
function AdminSection(props: {
  title: string;
  notice?: ComponentChildren;
  error: unknown;
  children: ComponentChildren;
}) {
  return (
    <section>
      <h2>{props.title}</h2>
      {props.notice}
      <ErrorBox error={props.error} />
      {props.children}
    </section>
  );
}

/** The inline form under a list that adds to it; `onSubmit` runs the request. */
function CreateForm(props: { onSubmit: () => Promise<void>; children: ComponentChildren }) {
  return (
    <form
      class="card inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        void props.onSubmit();
      }}
    >
      {props.children}
      <button type="submit" class="primary">
        {t('common.create')}
      </button>
    </form>
  );
}

/** An inline form's values; `bind(key)` wires a text box to one of them. */
function useForm<F extends Record<string, string>>(initial: F) {
  const [form, setForm] = useState(initial);
  const bind = (key: keyof F & string) => ({
    value: form[key] as string,
    onInput: (value: string) => setForm({ ...form, [key]: value }),
  });
  return [form, setForm, bind] as const;
}

/** A text box of an inline form. */
function TextField(props: {
  placeholder: string;
  required?: boolean;
  value: string;
  onInput: (value: string) => void;
}) {
  return (
    <input
      placeholder={props.placeholder}
      required={props.required}
      value={props.value}
      onInput={(e) => props.onInput(e.currentTarget.value)}
    />
  );
}

/** The customer unit a new account or vehicle belongs to. */
function CustomerSelect(props: { customers: Customer[]; value: string; onInput: (id: string) => void }) {
  return (
    <select required value={props.value} onChange={(e) => props.onInput(e.currentTarget.value)}>
      <option value="">{t('common.customer')}</option>
      {props.customers.map((c) => (
        <option key={c.id} value={c.id}>
          {c.id} — {c.name}
        </option>
      ))}
    </select>
  );
}

/** Shows a secret once, with the action's error if any; asks for a recent proof of identity when the action needs one, then runs it again. */
function useOutcome() {
  const reauth = useReauth();
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const run = (fn: () => Promise<string | null | void>) =>
    reauth.run(async () => {
      setErr(null);
      setMsg(null);
      try {
        setMsg((await fn()) ?? null);
      } catch (x) {
        setErr(errorText(x));
        throw x;
      }
    });
  const view = (
    <>
      {reauth.view}
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
  const [sessionsOf, setSessionsOf] = useState<string | null>(null);
  const customers = useLoad(() => api.get<{ customers: Customer[] }>('/api/customers'), []);
  const out = useOutcome();
  const [form, setForm, bind] = useForm({
    id: '',
    name: '',
    displayName: '',
    role: 'engineer' as Role,
    customerId: '',
  });
  const columns: Column<Account>[] = [
    { label: t('admin.account.id'), cell: (a) => a.id },
    { label: t('common.name'), cell: (a) => a.name },
    { label: t('admin.account.displayName'), cell: (a) => (a.role === 'customer' ? '—' : (a.displayName ?? '—')) },
    { label: t('admin.account.role'), cell: (a) => t(`role.${a.role}` as MessageKey) },
    { label: t('common.customer'), cell: (a) => a.customerId ?? '—' },
    { label: t('admin.account.lastLogin'), cell: (a) => dateTime(a.lastLoginAt) },
    {
      label: '',
      class: 'actions',
      cell: (a) => (
        <>
          {/* nobody locks themselves out: the server refuses it too (ADMIN_LOCKOUT) */}
          {a.id !== me().id && (
            <button
              type="button"
              data-testid={`account-disable-${a.id}`}
              onClick={() =>
                out.run(
                  async () => void (await api.patch(`/api/accounts/${a.id}`, { disabled: !a.disabled }), list.reload()),
                )
              }
            >
              {a.disabled ? t('admin.account.enable') : t('admin.account.disable')}
            </button>
          )}
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
          <button
            type="button"
            onClick={() =>
              out.run(async () => {
                const r = await api.post<{ path: string; expiresAt: number }>(`/api/accounts/${a.id}/reset-link`, {});
                return t('admin.account.resetLinkShown', {
                  id: a.id,
                  until: dateTime(r.expiresAt),
                  url: `${location.origin}${r.path}`,
                });
              })
            }
          >
            {t('admin.account.resetLink')}
          </button>
          <button type="button" onClick={() => setSessionsOf(sessionsOf === a.id ? null : a.id)}>
            {t('admin.account.sessions')}
          </button>
          {a.twoFactor && (
            <button
              type="button"
              onClick={() =>
                out.run(async () => void (await api.del(`/api/admin/accounts/${a.id}/two-factor`), list.reload()))
              }
            >
              {t('admin.account.2faOff')}
            </button>
          )}
        </>
      ),
    },
  ];
  return (
    <AdminSection title={t('admin.accounts')} notice={out.view} error={list.error}>
      <DataTable
        rows={list.data?.accounts ?? []}
        rowKey={(a) => a.id}
        rowClass={(a) => (a.disabled ? 'disabled' : '')}
        columns={columns}
      />
      {sessionsOf && <AccountSessions key={sessionsOf} id={sessionsOf} />}
      <CreateForm
        onSubmit={() =>
          out.run(async () => {
            const r = await api.post<{ account: Account; password?: string }>('/api/accounts', {
              id: form.id,
              name: form.name,
              role: form.role,
              ...(form.role === 'customer' ? { customerId: form.customerId } : {}),
              ...(form.role !== 'customer' && form.displayName.trim() ? { displayName: form.displayName } : {}),
            });
            list.reload();
            setForm({ id: '', name: '', displayName: '', role: form.role, customerId: form.customerId });
            return r.password ? t('admin.oneTimePassword', { id: r.account.id, pw: r.password }) : null;
          })
        }
      >
        <TextField placeholder={t('admin.account.id')} required {...bind('id')} />
        <TextField placeholder={t('common.name')} required {...bind('name')} />
        {form.role !== 'customer' && (
          <TextField placeholder={t('admin.account.displayName')} {...bind('displayName')} />
        )}
        <select value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value as Role })}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}` as MessageKey)}
            </option>
          ))}
        </select>
        {form.role === 'customer' && (
          <CustomerSelect customers={customers.data?.customers ?? []} {...bind('customerId')} />
        )}
      </CreateForm>
    </AdminSection>
  );
}

function Customers() {
  const list = useLoad(() => api.get<{ customers: Customer[] }>('/api/customers'), []);
  const out = useOutcome();
  const [form, setForm, bind] = useForm({ id: '', name: '' });
  return (
    <AdminSection title={t('admin.customers')} notice={out.view} error={list.error}>
      <DataTable
        rows={list.data?.customers ?? []}
        rowKey={(c) => c.id}
        columns={[
          { label: t('admin.customer.id'), cell: (c) => c.id },
          { label: t('common.name'), cell: (c) => c.name },
          { label: t('admin.customer.vehicles'), cell: (c) => c.vehicleCount },
        ]}
      />
      <CreateForm
        onSubmit={() =>
          out.run(async () => {
            await api.post('/api/customers', form);
            setForm({ id: '', name: '' });
            list.reload();
          })
        }
      >
        <TextField placeholder={t('admin.customer.id')} required {...bind('id')} />
        <TextField placeholder={t('common.name')} required {...bind('name')} />
      </CreateForm>
    </AdminSection>
  );
}

function Vehicles() {
  const list = useLoad(() => api.get<{ vehicles: VehicleState[] }>('/api/vehicles'), []);
  const customers = useLoad(() => api.get<{ customers: Customer[] }>('/api/customers'), []);
  const out = useOutcome();
  const [form, setForm, bind] = useForm({ id: '', customerId: '', name: '', model: '' });
  const columns: Column<VehicleState>[] = [
    { label: t('admin.vehicle.id'), cell: (v) => v.id },
    { label: t('common.name'), cell: (v) => v.name },
    { label: t('admin.vehicle.model'), cell: (v) => v.model },
    { label: t('common.customer'), cell: (v) => v.customerId },
    { label: t('fleet.col.online'), cell: (v) => <OnlineDot online={v.online} /> },
    {
      label: '',
      class: 'actions',
      cell: (v) => (
        <>
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
              out.run(async () => void (await api.del(`/api/vehicles/${encodeURIComponent(v.id)}`), list.reload()))
            }
          >
            {t('common.remove')}
          </button>
        </>
      ),
    },
  ];
  return (
    <AdminSection title={t('admin.vehicles')} notice={out.view} error={list.error}>
      <DataTable rows={list.data?.vehicles ?? []} rowKey={(v) => v.id} columns={columns} />
      <CreateForm
        onSubmit={() =>
          out.run(async () => {
            const r = await api.post<{ vehicle: VehicleState; secret: string }>('/api/vehicles', {
              id: form.id,
              customerId: form.customerId,
              ...(form.name.trim() ? { name: form.name } : {}),
              ...(form.model.trim() ? { model: form.model } : {}),
            });
            setForm({ ...form, id: '', name: '' });
            list.reload();
            return t('admin.vehicle.secret', { id: r.vehicle.id, secret: r.secret });
          })
        }
      >
        <TextField placeholder={t('admin.vehicle.id')} required {...bind('id')} />
        <CustomerSelect customers={customers.data?.customers ?? []} {...bind('customerId')} />
        <TextField placeholder={t('common.name')} {...bind('name')} />
        <TextField placeholder={t('admin.vehicle.model')} {...bind('model')} />
      </CreateForm>
    </AdminSection>
  );
}

function Audit() {
  const list = useLoad(() => api.get<{ entries: AuditEntry[] }>('/api/audit', { limit: 300 }), []);
  const out = useOutcome();
  const verify = () =>
    out.run(async () => {
      const r = await api.get<{ ok: boolean; rows: number; headHash?: string; brokenId?: number; reason?: string }>(
        '/api/admin/audit/verify',
      );
      return r.ok
        ? t('admin.audit.verifyOk', { rows: String(r.rows), hash: r.headHash ?? '' })
        : t('admin.audit.verifyBroken', { id: String(r.brokenId), reason: r.reason ?? '' });
    });
  return (
    <AdminSection title={t('admin.audit')} notice={out.view} error={list.error}>
      <div class="toolbar">
        <button type="button" onClick={() => void verify().catch(() => undefined)}>
          {t('admin.audit.verify')}
        </button>{' '}
        <a class="button" href="/api/admin/audit/export?format=csv" download>
          {t('admin.audit.exportCsv')}
        </a>{' '}
        <a class="button" href="/api/admin/audit/export?format=jsonl" download>
          {t('admin.audit.exportJsonl')}
        </a>
      </div>
      <DataTable
        rows={list.data?.entries ?? []}
        rowKey={(e) => e.id}
        columns={[
          { label: t('common.at'), cell: (e) => dateTime(e.at) },
          { label: t('common.by'), cell: (e) => e.actor },
          { label: t('admin.audit.action'), cell: (e) => e.action },
          { label: t('admin.audit.subject'), cell: (e) => e.subject ?? '—' },
          { label: t('admin.audit.source'), cell: (e) => e.source ?? '—', class: 'muted' },
          { label: 'IP', cell: (e) => e.ip ?? '—', class: 'muted' },
        ]}
      />
    </AdminSection>
  );
}

interface SessionInfo {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  ip: string | null;
  userAgent: string | null;
}

/** One account's live sessions: end one or all (their live connections are cut). */
function AccountSessions({ id }: { id: string }) {
  const list = useLoad(() => api.get<{ sessions: SessionInfo[] }>(`/api/admin/accounts/${id}/sessions`), [id]);
  const out = useOutcome();
  return (
    <AdminSection title={`${t('admin.account.sessions')}: ${id}`} notice={out.view} error={list.error}>
      <DataTable
        rows={list.data?.sessions ?? []}
        rowKey={(x) => x.id}
        columns={[
          { label: t('sec.session.created'), cell: (x) => dateTime(x.createdAt) },
          { label: t('sec.session.lastSeen'), cell: (x) => dateTime(x.lastSeenAt) },
          { label: t('sec.session.address'), cell: (x) => x.ip ?? '—' },
          { label: t('sec.session.browser'), cell: (x) => x.userAgent ?? '—' },
          {
            label: '',
            class: 'actions',
            cell: (x) => (
              <button
                type="button"
                onClick={() =>
                  out.run(async () => void (await api.del(`/api/admin/accounts/${id}/sessions/${x.id}`), list.reload()))
                }
              >
                {t('sec.session.revoke')}
              </button>
            ),
          },
        ]}
      />
      <button
        type="button"
        onClick={() => out.run(async () => void (await api.del(`/api/admin/accounts/${id}/sessions`), list.reload()))}
      >
        {t('admin.account.endAll')}
      </button>
    </AdminSection>
  );
}

const SCOPES = ['vehicles:read', 'telemetry:read', 'alarms:read', 'tickets:read', 'tickets:create'] as const;
interface ApiTokenInfo {
  id: string;
  name: string;
  accountId: string;
  scopes: string[];
  customerId: string | null;
  expiresAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** API tokens: create (the token shown once), list, revoke. */
function Tokens() {
  const list = useLoad(() => api.get<{ tokens: ApiTokenInfo[] }>('/api/admin/api-tokens'), []);
  const accounts = useLoad(() => api.get<{ accounts: Account[] }>('/api/accounts'), []);
  const customers = useLoad(() => api.get<{ customers: Customer[] }>('/api/customers'), []);
  const out = useOutcome();
  const [form, setForm, bind] = useForm({ accountId: '', name: '', customerId: '', days: '90' });
  const [scopes, setScopes] = useState<string[]>(['tickets:read']);
  const columns: Column<ApiTokenInfo>[] = [
    { label: t('common.name'), cell: (x) => x.name },
    { label: t('admin.token.account'), cell: (x) => x.accountId },
    { label: t('admin.token.scopes'), cell: (x) => x.scopes.join(', ') },
    { label: t('admin.token.unit'), cell: (x) => x.customerId ?? '—' },
    { label: t('admin.token.expires'), cell: (x) => dateTime(x.expiresAt) },
    { label: t('admin.token.lastUsed'), cell: (x) => dateTime(x.lastUsedAt) },
    {
      label: '',
      class: 'actions',
      cell: (x) =>
        x.revokedAt ? (
          <span class="muted">{t('admin.token.revoked')}</span>
        ) : (
          <button
            type="button"
            onClick={() => out.run(async () => void (await api.del(`/api/admin/api-tokens/${x.id}`), list.reload()))}
          >
            {t('admin.token.revoke')}
          </button>
        ),
    },
  ];
  return (
    <AdminSection title={t('admin.tokens')} notice={out.view} error={list.error}>
      <DataTable
        rows={list.data?.tokens ?? []}
        rowKey={(x) => x.id}
        rowClass={(x) => (x.revokedAt ? 'disabled' : '')}
        columns={columns}
      />
      <CreateForm
        onSubmit={() =>
          out.run(async () => {
            const r = await api.post<{ token: string; info: ApiTokenInfo }>('/api/admin/api-tokens', {
              accountId: form.accountId,
              name: form.name,
              scopes,
              ...(form.customerId ? { customerId: form.customerId } : {}),
              expiresInDays: Number(form.days),
            });
            list.reload();
            setForm({ accountId: form.accountId, name: '', customerId: '', days: form.days });
            return t('admin.token.shown', { name: r.info.name, token: r.token });
          })
        }
      >
        <select
          required
          value={form.accountId}
          onChange={(e) => setForm({ ...form, accountId: e.currentTarget.value })}
        >
          <option value="">{t('admin.token.account')}</option>
          {(accounts.data?.accounts ?? [])
            .filter((a) => !a.disabled)
            .map((a) => (
              <option key={a.id} value={a.id}>
                {a.id} — {t(`role.${a.role}` as MessageKey)}
              </option>
            ))}
        </select>
        <TextField placeholder={t('common.name')} required {...bind('name')} />
        <fieldset class="scopes">
          <legend>{t('admin.token.scopes')}</legend>
          {SCOPES.map((sc) => (
            <label key={sc}>
              <input
                type="checkbox"
                checked={scopes.includes(sc)}
                onChange={(e) => setScopes(e.currentTarget.checked ? [...scopes, sc] : scopes.filter((x) => x !== sc))}
              />
              {sc}
            </label>
          ))}
        </fieldset>
        <select value={form.customerId} onChange={(e) => setForm({ ...form, customerId: e.currentTarget.value })}>
          <option value="">{t('admin.token.unit')}: —</option>
          {(customers.data?.customers ?? []).map((c) => (
            <option key={c.id} value={c.id}>
              {c.id} — {c.name}
            </option>
          ))}
        </select>
        <input
          type="number"
          min={1}
          max={366}
          title={t('admin.token.days')}
          value={form.days}
          onInput={(e) => setForm({ ...form, days: e.currentTarget.value })}
        />
      </CreateForm>
    </AdminSection>
  );
}
