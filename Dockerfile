# The fleetgate gateway: `docker build -t fleetgate .` then
# `docker run -p 8080:8080 -v $PWD/gateway.config.yaml:/app/gateway.config.yaml fleetgate`.
# NODE_VERSION follows .nvmrc (test/unit/toolchain.test.ts checks they agree).
ARG NODE_VERSION=24.22.3
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:${NODE_VERSION}-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY gateway.config.yaml ./
COPY deploy/fly/gateway.yaml ./deploy/fly/gateway.yaml
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM drains: readiness fails at once, open streams get --drain-ms to finish.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve", "--config", "gateway.config.yaml"]
