# The platform on its embedded defaults (SQLite in /data), as built JavaScript (npm run build).

# Build stage: compilers for better-sqlite3's native module, every dependency, the build, then
# only the production dependencies left in node_modules.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci applies them (postinstall: patch-package; docs/architecture.md, "Patched dependencies")
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: no compilers, no TypeScript tooling; runs as the unprivileged `node` user, which
# can read the code (owned by root) but write only to /data.
FROM node:20-bookworm-slim
# the CJK font service reports embed in their PDFs (REPORT_FONT_FILE's default; docs/service-reports.md)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
ENV DATA_DIR=/data MQTT_PORT=1883 HTTP_PORT=8080 LOG_LEVEL=info
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 1883 8080
# /healthz answers 200 while the platform runs; slim has no curl, so a small script of the build asks
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "dist/platform/healthcheck.js"]
STOPSIGNAL SIGTERM
# as `npm start` (package.json): V8's helper threads one fewer than the cores, so that a young-generation
# collection does not wait for helpers the cores cannot run, and no allocation-site pretenuring, which
# kept frames alive into the old generation (docs/architecture.md, "Build and run")
CMD ["node", "--v8-pool-size=0", "--no-allocation-site-pretenuring", "dist/platform/main.js"]
