import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import { serializerCompiler } from 'fastify-type-provider-zod';

/**
 * A route's serializer compiler for a large answer: `json` writes its 200 answer (a hand-written
 * writer that checks what zod would and writes what zod's serializer would, tested side by side),
 * the zod serializer — as on every other route — the rest (its error answers).
 */
export function serializerWith(json: (data: never) => string) {
  return <T>(route: FastifyRouteSchemaDef<T>): ((data: unknown) => string) => {
    if (String(route.httpStatus) !== '200')
      return serializerCompiler(route as unknown as Parameters<typeof serializerCompiler>[0]);
    return (data) => json(data as never);
  };
}
