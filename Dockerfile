# The platform on its embedded defaults (SQLite in /data).
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:console
ENV DATA_DIR=/data MQTT_PORT=1883 HTTP_PORT=8080 LOG_LEVEL=info
VOLUME ["/data"]
EXPOSE 1883 8080
STOPSIGNAL SIGTERM
CMD ["npx", "tsx", "platform/main.ts"]
