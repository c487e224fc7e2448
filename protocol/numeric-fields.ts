// The field table alone (no zod), so that what needs only the table, such as the telemetry store's
// writer thread, loads without the schemas.

/**
 * Every numeric measurement a frame can carry: its path in the frame, unit and allowed range.
 * This one table drives the schema, the store's columns, the chart series and docs/protocol.md.
 */
export const NUMERIC_FIELDS = [
  { path: 'mains.voltageV', unit: 'V', min: 0, max: 500 },
  { path: 'mains.frequencyHz', unit: 'Hz', min: 0, max: 100 },
  { path: 'mains.currentA', unit: 'A', min: 0, max: 2000 },
  { path: 'generator.voltageV', unit: 'V', min: 0, max: 500 },
  { path: 'generator.frequencyHz', unit: 'Hz', min: 0, max: 100 },
  { path: 'generator.currentA', unit: 'A', min: 0, max: 2000 },
  { path: 'generator.rpm', unit: 'rpm', min: 0, max: 10000 },
  { path: 'generator.fuelPct', unit: '%', min: 0, max: 100 },
  { path: 'generator.coolantC', unit: '°C', min: -50, max: 200 },
  { path: 'generator.oilKpa', unit: 'kPa', min: 0, max: 2000 },
  { path: 'battery.voltageV', unit: 'V', min: 0, max: 100 },
  { path: 'battery.currentA', unit: 'A', min: -2000, max: 2000 },
  { path: 'battery.socPct', unit: '%', min: 0, max: 100 },
  { path: 'battery.tempC', unit: '°C', min: -50, max: 150 },
  { path: 'charging.alternatorV', unit: 'V', min: 0, max: 100 },
  { path: 'charging.currentA', unit: 'A', min: 0, max: 1000 },
  { path: 'loadKw', unit: 'kW', min: 0, max: 2000 },
] as const;

export type NumericFieldPath = (typeof NUMERIC_FIELDS)[number]['path'];
export const NUMERIC_FIELD_PATHS = NUMERIC_FIELDS.map((f) => f.path) as NumericFieldPath[];
