# syntax=docker/dockerfile:1
# Both images, from the repository root (docker-compose.yml builds them):
#   docker build --target api    --build-arg APP=api    -t one-time-api .
#   docker build --target worker --build-arg APP=worker -t one-time-worker .
# Not built on the development machines (no Docker engine there): see README, "What was not run here".
ARG APP=api

# 1. Everything, to build the web page (Vite is a dev dependency) that the API serves from apps/web/dist.
FROM node:24-bookworm-slim AS web
WORKDIR /app
COPY . .
RUN (npm ci --no-audit --no-fund || npm install --no-audit --no-fund) && npm run build

# 2. Production dependencies only: the app's workspace and the workspaces it links, no dev dependencies.
FROM node:24-bookworm-slim AS deps
ARG APP
WORKDIR /app
COPY . .
# npm ci first; npm 11 may call the lock "out of sync" over an optional dependency of another platform (see
# scripts/deps.sh), and then the same install is done by npm install, which resolves from the same lock file.
RUN (npm ci --omit=dev --workspace @one-time/${APP} --include-workspace-root=false --no-audit --no-fund \
  || npm install --omit=dev --workspace @one-time/${APP} --include-workspace-root=false --no-audit --no-fund) \
  && npm cache clean --force

# 3. What both runtimes share: sources run as TypeScript by Node 24 (type stripping, no build step), as the
# unprivileged `node` user. SIGTERM reaches node directly (exec form): each app drains within SHUTDOWN_TIMEOUT.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=deps --chown=root:root /app /app
USER node
STOPSIGNAL SIGTERM

FROM runtime AS worker
ENV OPS_PORT=3001
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.OPS_PORT||3001)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "apps/worker/src/main.ts"]

FROM runtime AS api
ENV PORT=3000
COPY --from=web --chown=root:root /app/apps/web/dist /app/apps/web/dist
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--max-semi-space-size=4", "apps/api/src/main.ts"]
