import type { ResourceRegister } from '../resources/register.ts';

const DAY = 86_400_000;

/**
 * Demo only: a few suppliers, partners, tools and people in the resource register
 * (docs/resources-register.md), added when the register is empty — one instrument's calibration
 * overdue and one due soon, so the flags and the inbox reminders show at once.
 */
export async function seedDemoResources(
  register: Omit<ResourceRegister, 'start' | 'stop' | 'reminders'>,
  now = Date.now(),
) {
  if ((await register.suppliers.list()).length === 0) {
    await register.suppliers.add({
      id: 'SUP-GENSET',
      name: 'Hunan Generator Set Works',
      nameZh: '湖南发电机组厂',
      contact: 'Wang Qiang, 0731-8800 1001',
      certification: 'ISO 9001',
      certifiedUntil: now + 300 * DAY,
      lastAuditAt: now - 200 * DAY,
      nextAuditAt: now + 165 * DAY,
      status: 'approved',
    });
    await register.suppliers.add({
      id: 'SUP-POWERELEC',
      name: 'Zhuzhou Power Electronics',
      nameZh: '株洲电力电子',
      contact: 'Chen Li, 0731-2200 3003',
      certification: 'IATF 16949',
      certifiedUntil: now - 10 * DAY,
      nextAuditAt: now - 5 * DAY,
      status: 'approved',
    });
  }
  if ((await register.partners.list()).length === 0) {
    await register.partners.add({
      kind: 'repair_shop',
      name: 'Changsha Special Vehicle Repair',
      nameZh: '长沙专用车修理厂',
      regions: ['Changsha', 'Xiangtan'],
      capabilities: ['generator_set', 'chassis', 'electrical'],
      reputation: 4,
      technicalStrength: 5,
      contacts: [{ name: 'Liu Bo', phone: '0731-5550 0001', role: 'workshop manager' }],
      contractTerms: 'On site within 4 h in Changsha; parts at contract prices',
      contractUntil: now + 365 * DAY,
    });
    await register.partners.add({
      kind: 'towing',
      name: 'Xiangjiang Heavy Towing',
      nameZh: '湘江重型拖车',
      regions: ['Changsha', 'Zhuzhou', 'Xiangtan'],
      capabilities: ['heavy_towing'],
      reputation: 3,
      technicalStrength: 3,
      contacts: [{ name: 'Zhou Gang', phone: '0731-5550 0002' }],
      contractTerms: '24 h call-out, 2 h to arrive within the city',
    });
  }
  if ((await register.tools.list()).length === 0) {
    await register.tools.add({
      code: 'TL-INS-01',
      name: 'Insulation resistance tester',
      nameZh: '绝缘电阻测试仪',
      kind: 'instrument',
      location: 'Central spare-parts store',
      keeper: 'engineer',
      calibrationDueAt: now - 3 * DAY,
    });
    await register.tools.add({
      code: 'TL-CLAMP-02',
      name: 'DC clamp meter',
      nameZh: '直流钳形表',
      kind: 'instrument',
      location: 'Service vehicle 1',
      keeper: 'engineer',
      calibrationDueAt: now + 7 * DAY,
    });
    await register.tools.add({
      code: 'TL-GENKIT-01',
      name: 'Generator set service kit',
      nameZh: '发电机组维修工具箱',
      kind: 'tool',
      location: 'Central spare-parts store',
      maintenanceDueAt: now + 90 * DAY,
    });
  }
  if ((await register.people.list()).length === 0) {
    const year = now + 365 * DAY;
    await register.people.add({
      id: 'zhang.wei',
      name: 'Zhang Wei',
      department: 'market',
      accountId: 'dispatcher',
      qualifications: [{ skill: 'generator_set', certificate: 'Generator set service II', expiresAt: year }],
    });
    await register.people.add({
      id: 'li.na',
      name: 'Li Na',
      department: 'technical_centre',
      accountId: 'engineer',
      qualifications: [
        { skill: 'power_electronics', expiresAt: year },
        { skill: 'battery', expiresAt: year },
        { skill: 'generator_set', expiresAt: year },
      ],
    });
    await register.people.add({
      id: 'wang.fang',
      name: 'Wang Fang',
      department: 'manufacturing',
      available: false,
      availabilityNote: 'on the production line this week',
      qualifications: [{ skill: 'chassis', expiresAt: year }, { skill: 'electrical' }],
    });
  }
}
