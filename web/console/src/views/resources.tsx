/**
 * The resource register: tools and equipment (工具设备台账), suppliers and quality
 * (供应商管理/质量信息反馈), partner repair shops and towing companies (修理厂/拖车公司), people with
 * qualifications and availability — one tab each (components/resource-*.tsx), each shown to the
 * roles the API lets read it and with edit controls only for the roles it lets write
 * (web/auth/resource-roles.ts): supply chain gets the suppliers only; customers none of it.
 * docs/resources-register.md.
 */
import { useState } from 'preact/hooks';
import { REGISTER_READ, SUPPLIERS_READ } from '../../../auth/resource-roles.ts';
import { ResourcePartners } from '../components/resource-partners.tsx';
import { ResourcePeople } from '../components/resource-people.tsx';
import { ResourceSuppliers } from '../components/resource-suppliers.tsx';
import { ResourceTools } from '../components/resource-tools.tsx';
import { t, useLang, type MessageKey } from '../i18n.ts';
import { may } from '../session.ts';

const TABS = [
  { key: 'tools', read: REGISTER_READ, view: ResourceTools },
  { key: 'suppliers', read: SUPPLIERS_READ, view: ResourceSuppliers },
  { key: 'partners', read: REGISTER_READ, view: ResourcePartners },
  { key: 'people', read: REGISTER_READ, view: ResourcePeople },
] as const;

export function Resources() {
  useLang();
  const tabs = TABS.filter((x) => may(x.read));
  const [tab, setTab] = useState<string>(tabs[0]?.key ?? '');
  const current = tabs.find((x) => x.key === tab);
  if (!current) return null;
  const View = current.view;
  return (
    <div class="view resources" data-testid="resources-view">
      <h2>{t('res.title')}</h2>
      <nav class="tabs">
        {tabs.map((x) => (
          <button
            key={x.key}
            type="button"
            class={tab === x.key ? 'link active' : 'link'}
            data-tab={x.key}
            onClick={() => setTab(x.key)}
          >
            {t(`res.tab.${x.key}` as MessageKey)}
          </button>
        ))}
      </nav>
      <View key={current.key} />
    </div>
  );
}
