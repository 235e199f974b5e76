# syntax=docker/dockerfile:1
# The image of both roles: ROLE=api (the default here) or ROLE=worker, at build time
# (--build-arg ROLE=worker) or at run time (-e ROLE=worker). Node 24, the major of development
# and CI (package.json engines); the image's own node runs the service.
ARG NODE_IMAGE=node:24-alpine

# Build: every dependency, TypeScript compiled to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The one install script in the tree is the `node` package's, which downloads a Node 24 binary
# for machines whose system Node is older; the image has Node 24 already, so scripts are off and
# the package's dangling bin link goes, leaving npm scripts on the image's node.
RUN npm ci --ignore-scripts && rm -rf node_modules/node node_modules/.bin/node
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm run build` runs it after tsc, to copy the console's static files into dist/
COPY scripts/copy-console.ts ./scripts/
RUN npm run build

# Run: production dependencies only, the compiled service, the shipped alert rules.
FROM ${NODE_IMAGE} AS runtime
ARG ROLE=api
ENV ROLE=${ROLE} \
    HOST=0.0.0.0 \
    PORT=3000 \
    METRICS_PORT=9464 \
    DATA_DIR=/app/.data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
    && rm -rf node_modules/node node_modules/.bin/node \
    && npm cache clean --force \
    && mkdir -p /app/.data && chown node:node /app/.data
COPY --from=build /app/dist ./dist
# alert rules: dist/alerts resolves ../../config/alert-rules.json to /app/config
COPY config ./config
# the unprivileged user of the official Node images; it owns nothing but DATA_DIR
USER node
# PORT serves the API (api, all); METRICS_PORT serves a worker's health and metrics
EXPOSE 3000 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "dist/healthcheck.js"]
# node as PID 1 receives SIGTERM itself and stops gracefully (SHUTDOWN_TIMEOUT_MS)
CMD ["node", "dist/main.js"]
