export * from './topics.ts';
export * from './telemetry.ts';
export * from './messages.ts';
export * from './topic-map.ts';
export * from './power-profile.ts';
