/**
 * The PowerWatch console: sign-in, then the shell (navigation, language switch, live status) and
 * the view the hash route names. Customers get the fleet, vehicle, ticket and request views of
 * their own unit; staff get alarms too; administrators get the admin view. At `/guest`, an invited
 * guest gets its one remote session instead.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, onSessionEnded, setCsrfToken } from './api.ts';
import { InboxBell } from './components/inbox-bell.tsx';
import { LangSwitch } from './components/lang-switch.tsx';
import { QueueSummary } from './components/queue-summary.tsx';
import { EscalationAlert } from './components/escalation-alert.tsx';
import { RingAlert } from './components/ring-alert.tsx';
import { navigate, useRoute } from './hooks.ts';
import { t, useLang, type MessageKey } from './i18n.ts';
import { connectLive, disconnectLive, isLiveConnected, onLive } from './live.ts';
import { isStaff, loadMeta, seesResources, seesStock, setSession } from './session.ts';
import { StockView } from './views/stock.tsx';
import './styles.css';
import type { Session } from './types.ts';
import { Admin } from './views/admin.tsx';
import { Roster } from './views/roster.tsx';
import { Resources } from './views/resources.tsx';
import { Alarms } from './views/alarms.tsx';
import { OrderForm, Orders, OrderView } from './views/orders.tsx';
import { Deliveries } from './views/deliveries.tsx';
import { Stats } from './views/stats.tsx';
import { CustomerFiles } from './views/customer-file.tsx';
import { Fleet } from './views/fleet.tsx';
import { GuestApp } from './views/guest.tsx';
import { ChangePassword, Login, ResetPassword } from './views/login.tsx';
import { Notifications } from './views/notifications.tsx';
import { Security } from './views/security.tsx';
import { RequestForm } from './views/request.tsx';
import { SessionView } from './views/session.tsx';
import { TicketView } from './views/ticket.tsx';
import { Tickets } from './views/tickets.tsx';
import { Vehicle } from './views/vehicle.tsx';

type Phase =
  | { kind: 'loading' }
  | { kind: 'signed-out'; reason?: string }
  | { kind: 'password'; session: Session }
  | { kind: 'enrol'; session: Session }
  | { kind: 'in'; session: Session };

function App() {
  useLang();
  const route = useRoute();
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  const enter = async (s: Session) => {
    setCsrfToken(s.csrfToken);
    setSession(s);
    if (s.account.mustChangePassword) return setPhase({ kind: 'password', session: s });
    if (s.twoFactorRequired) return setPhase({ kind: 'enrol', session: s });
    await loadMeta();
    connectLive();
    setPhase({ kind: 'in', session: s });
  };
  const leave = (reason?: string) => {
    disconnectLive();
    setCsrfToken(null);
    setSession(null);
    setPhase({ kind: 'signed-out', ...(reason ? { reason } : {}) });
  };

  useEffect(() => {
    // a signed-out start is no error: /api/auth/state answers 200 with a null session
    api.get<{ session: Session | null }>('/api/auth/state').then(
      (s) => (s.session ? enter(s.session) : setPhase({ kind: 'signed-out' })),
      () => setPhase({ kind: 'signed-out' }),
    );
    const off1 = onSessionEnded(() => leave());
    const off2 = onLive('ended', (reason) => leave(reason));
    return () => {
      off1();
      off2();
    };
  }, []);

  const resetToken = route.parts[0] === 'reset' ? route.query.get('token') : null;
  if (resetToken) return <ResetPassword token={resetToken} onDone={() => navigate('/fleet')} />;
  if (phase.kind === 'loading') return <p class="muted center">{t('common.loading')}</p>;
  if (phase.kind === 'signed-out') return <Login onSignedIn={(s) => void enter(s)} />;
  if (phase.kind === 'password') return <ChangePassword onChanged={(s) => void enter(s)} />;
  if (phase.kind === 'enrol')
    return (
      <main class="content">
        <Security
          session={phase.session}
          onEnrolled={() => void api.get<Session>('/api/auth/session').then(enter, () => leave())}
        />
      </main>
    );
  return (
    <Shell session={phase.session} onLogout={() => void api.post('/api/auth/logout', {}).finally(() => leave())} />
  );
}

function Shell({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const { parts } = useRoute();
  const [live, setLive] = useState(isLiveConnected);
  useEffect(() => {
    const off = onLive('status', setLive);
    setLive(isLiveConnected()); // the socket may have connected between the first render and this effect
    return off;
  }, []);
  const role = session.account.role;
  const staff = isStaff(role);
  const supplyOnly = role === 'supply';
  const [section = supplyOnly ? 'stock' : 'fleet', id] = parts;
  const canSeeDeliveries = role === 'admin' || role === 'dispatcher';
  const nav: { href: string; key: MessageKey; section: string; show: boolean }[] = [
    { href: '#/fleet', key: 'nav.fleet', section: 'fleet', show: !supplyOnly },
    { href: '#/tickets', key: 'nav.tickets', section: 'tickets', show: !supplyOnly },
    { href: '#/alarms', key: 'nav.alarms', section: 'alarms', show: staff },
    { href: '#/orders', key: 'nav.orders', section: 'orders', show: true },
    {
      href: '#/request',
      key: role === 'customer' ? 'nav.request' : 'nav.hotline',
      section: 'request',
      show: role !== 'engineer' && !supplyOnly,
    },
    { href: '#/stock', key: 'nav.stock', section: 'stock', show: seesStock(role) },
    { href: '#/deliveries', key: 'nav.deliveries', section: 'deliveries', show: canSeeDeliveries },
    { href: '#/roster', key: 'nav.roster', section: 'roster', show: staff },
    { href: '#/stats', key: 'nav.stats', section: 'stats', show: canSeeDeliveries },
    { href: '#/files', key: 'nav.files', section: 'files', show: true },
    { href: '#/resources', key: 'nav.resources', section: 'resources', show: seesResources(role) },
    { href: '#/notifications', key: 'nav.notifications', section: 'notifications', show: true },
    { href: '#/admin', key: 'nav.admin', section: 'admin', show: role === 'admin' },
    { href: '#/security', key: 'nav.security', section: 'security', show: true },
  ];
  let view;
  if (section === 'security') view = <Security session={session} />;
  else if (section === 'vehicles' && id) view = <Vehicle key={id} id={id} />;
  else if (section === 'tickets' && id) view = <TicketView key={id} id={id} />;
  else if (section === 'sessions' && id) view = <SessionView key={id} id={id} />;
  else if (section === 'tickets') view = <Tickets />;
  else if (section === 'orders' && id === 'new' && role !== 'engineer') view = <OrderForm />;
  else if (section === 'orders' && id) view = <OrderView key={id} id={id} />;
  else if (section === 'orders') view = <Orders />;
  else if (section === 'alarms' && staff) view = <Alarms />;
  else if (section === 'request' && role !== 'engineer') view = <RequestForm />;
  else if (section === 'roster' && staff) view = <Roster />;
  else if (section === 'resources' && seesResources(role)) view = <Resources />;
  else if (section === 'admin' && role === 'admin') view = <Admin />;
  else if (section === 'deliveries' && canSeeDeliveries) view = <Deliveries />;
  else if (section === 'stats' && canSeeDeliveries) view = <Stats />;
  else if (section === 'files') view = <CustomerFiles key={id ?? ''} id={id} />;
  else if (section === 'notifications') view = <Notifications />;
  else if (section === 'stock' && seesStock(role)) view = <StockView />;
  else view = supplyOnly ? <StockView /> : <Fleet />;
  const current = section === 'vehicles' ? 'fleet' : section;
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/fleet">
          {t('appName')}
        </a>
        <nav>
          {nav
            .filter((n) => n.show)
            .map((n) => (
              <a key={n.href} href={n.href} class={current === n.section ? 'active' : ''}>
                {t(n.key)}
              </a>
            ))}
        </nav>
        <QueueSummary />
        <span class={`live-status ${live ? 'on' : 'off'}`} data-testid="live-status">
          {live ? t('live.connected') : t('live.disconnected')}
        </span>
        <InboxBell />
        <span class="who" data-testid="who">
          {session.account.name} · {t(`role.${role}` as MessageKey)}
          {session.account.customerId ? ` · ${session.account.customerId}` : ''}
        </span>
        <LangSwitch />
        <button type="button" class="link" onClick={onLogout} data-testid="logout">
          {t('nav.logout')}
        </button>
      </header>
      {role !== 'customer' && <RingAlert />}
      {role !== 'customer' && <EscalationAlert />}
      <main class="content">{view}</main>
    </>
  );
}

// `/guest#token=…`: an invited crew member without an account (views/guest.tsx)
render(location.pathname === '/guest' ? <GuestApp /> : <App />, document.getElementById('app')!);
