import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CAPTION_MAX_CHARS, PHOTO_MAX_BYTES } from '../../remote/photos.ts';
import { PHOTO_TYPES } from '../../remote/photo-type.ts';
import { FIELD_ROLES } from '../auth/accounts.ts';
import { auditFrom, principalOfRequest, viewerOf } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, numericIdSchema, sessionEntryOut } from '../schemas.ts';
import { sessionView } from '../session-view.ts';

export const photoOut = z.object({
  id: z.string(),
  type: z.enum(PHOTO_TYPES),
  size: z.number(),
  sha256: z.string(),
  caption: z.string().nullable(),
  uploadedAt: z.number(),
});

const photoParams = z.object({
  id: numericIdSchema,
  photoId: z.string().regex(/^ph_[A-Za-z0-9_-]{1,40}$/, { error: 'must be a photo id (ph_…)' }),
});

const EXTENSION: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };

/**
 * Photos of a remote session (the crew's pictures): uploaded as the raw image body (`image/jpeg`,
 * `image/png` or `image/webp`, ≤ 5 MB; the bytes decide the type), read back only by those the
 * session admits (staff, the unit's customers, its guests) — for anyone else the session does not exist.
 */
export function sessionPhotoRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { photos } = ctx.deps;
  const maxBytes = photos.maxBytes ?? PHOTO_MAX_BYTES;
  return async (app) => {
    // only in this plugin: an image body arrives as bytes, and nothing else is parsed (JSON included)
    app.removeAllContentTypeParsers();
    app.addContentTypeParser([...PHOTO_TYPES], { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) =>
      done(null, body),
    );

    app.post(
      '/api/sessions/:id/photos',
      {
        bodyLimit: maxBytes,
        config: {
          access: { roles: FIELD_ROLES, guest: true },
          rateLimit: 'photos',
          bodyErrors: {
            tooLarge: { code: 'PHOTO_TOO_LARGE', message: `a photo has at most ${maxBytes} bytes (5 MB)` },
            mediaType: {
              code: 'PHOTO_TYPE_UNSUPPORTED',
              message: `send the photo as the body with content-type ${PHOTO_TYPES.join(', ')}`,
            },
          },
        },
        schema: {
          tags: ['sessions'],
          summary: 'Attach a photo (JPEG, PNG or WebP, at most 5 MB) to the session: stored and put on its timeline',
          description:
            'The body is the image itself, content-type image/jpeg, image/png or image/webp. The type is decided from the bytes: another type is 415 PHOTO_TYPE_UNSUPPORTED, bytes of a different image type than the header says 415 PHOTO_TYPE_MISMATCH, over 5 MB 413 PHOTO_TOO_LARGE. Participants only (the unit’s crew join by sending, staff and guests must have joined).',
          params: z.object({ id: numericIdSchema }),
          querystring: z.strictObject({
            caption: z
              .string()
              .max(CAPTION_MAX_CHARS, { error: `must have at most ${CAPTION_MAX_CHARS} characters` })
              .optional()
              .meta({ description: 'what the photo shows' }),
          }),
          response: {
            201: z.object({ photo: photoOut, entry: sessionEntryOut }),
            ...errors(400, ...AUTHED, 404, 409, 413, 415),
          },
        },
      },
      async (req, reply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const principal = principalOfRequest(req);
        const { photo, entry } = await photos.add(
          principal,
          req.params.id,
          body,
          req.headers['content-type'],
          req.query.caption ?? null,
        );
        await ctx.audit.record({
          actor: principal.id,
          action: 'session.photo_added',
          subject: `session:${req.params.id}`,
          ...auditFrom(req),
          details: { photoId: photo.id, type: photo.type, size: photo.size, sha256: photo.sha256 },
        });
        const viewer = viewerOf(req);
        const view = sessionView(viewer, await ctx.names.forViewer(viewer));
        const { sessionId: _s, uploadedBy: _u, ...shown } = photo;
        return reply.code(201).send({ photo: shown, entry: view.entry(entry) });
      },
    );

    app.get(
      '/api/sessions/:id/photos/:photoId',
      {
        config: { access: { roles: FIELD_ROLES, guest: true } },
        schema: {
          tags: ['sessions'],
          summary: 'A photo of the session (its bytes), for the session’s participants',
          params: photoParams,
          produces: [...PHOTO_TYPES],
          response: { ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const { photo, bytes } = await photos.read(principalOfRequest(req), req.params.id, req.params.photoId);
        return reply
          .type(photo.type)
          .header('x-content-type-options', 'nosniff')
          .header('content-disposition', `inline; filename="${photo.id}.${EXTENSION[photo.type] ?? 'bin'}"`)
          .header('cache-control', 'private, max-age=300')
          .send(bytes as never);
      },
    );
  };
}
