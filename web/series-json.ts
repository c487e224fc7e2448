import { seriesJson } from '../telemetry/series-json.ts';
import { serializerWith } from './route-serializer.ts';

/** GET /api/vehicles/:id/telemetry's serializer compiler: `seriesJson` for its 200 answer, the zod serializer for the rest. */
export const seriesSerializerCompiler = serializerWith(seriesJson);
