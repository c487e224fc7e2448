export * from './catalogue.ts';
export * from './scenario-file.ts';
export * from './plan.ts';
