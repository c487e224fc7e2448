/**
 * A remote session's charts: the four power sections (mains, generator, battery, charging and
 * load) at the full rate, in the column shape of charts.ts, and the few key values the crew sees.
 */
import { fieldsOf, type ChartDef } from './charts.ts';

export const SESSION_WINDOW_MS = 5 * 60_000;

export const SESSION_CHARTS: ChartDef[] = [
  {
    id: 'mains',
    title: 'session.chart.mains',
    leftUnit: 'V',
    rightUnit: 'Hz',
    fields: [
      { path: 'mains.voltageV', label: 'series.mainsV', color: '#2f7ed8', unit: 'V' },
      { path: 'mains.frequencyHz', label: 'series.mainsHz', color: '#7cb5ec', axis: 'right', unit: 'Hz', dash: true },
      { path: 'mains.currentA', label: 'series.mainsA', color: '#1d4e89', unit: 'A' },
    ],
  },
  {
    id: 'generator',
    title: 'session.chart.generator',
    leftUnit: 'V / A',
    rightUnit: 'Hz / rpm',
    fields: [
      { path: 'generator.voltageV', label: 'series.genV', color: '#e4572e', unit: 'V' },
      { path: 'generator.currentA', label: 'series.genA', color: '#a23b1e', unit: 'A' },
      { path: 'generator.frequencyHz', label: 'series.genHz', color: '#f5a37f', axis: 'right', unit: 'Hz', dash: true },
      { path: 'generator.rpm', label: 'series.genRpm', color: '#6d597a', axis: 'right', unit: 'rpm' },
    ],
  },
  {
    id: 'battery',
    title: 'vehicle.chart.battery',
    leftUnit: 'V / A',
    rightUnit: '%',
    fields: [
      { path: 'battery.voltageV', label: 'series.battV', color: '#2a9d8f', unit: 'V' },
      { path: 'battery.currentA', label: 'series.battA', color: '#8d6cab', unit: 'A' },
      { path: 'battery.socPct', label: 'series.soc', color: '#e9c46a', axis: 'right', unit: '%' },
    ],
  },
  {
    id: 'charging',
    title: 'vehicle.chart.charging',
    leftUnit: 'A',
    rightUnit: 'kW',
    fields: [
      { path: 'charging.currentA', label: 'series.chargeA', color: '#43aa8b', unit: 'A' },
      { path: 'loadKw', label: 'series.loadKw', color: '#f94144', axis: 'right', unit: 'kW' },
    ],
  },
];

export const SESSION_FIELDS = fieldsOf(SESSION_CHARTS);
