import { describeInfluxExport } from './influx-export-suite.ts';

// the embedded store: telemetry.db in the test platform's data directory, the cursor a file beside it
describeInfluxExport('SQLite', async () => ({ env: {}, cleanup: async () => undefined }));
