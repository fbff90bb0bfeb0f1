# mirrorhook webhook image: multi-stage, Node.js LTS, production dependencies only, non-root, and happy on a
# read-only root filesystem (it writes nothing at run time when given --cert/--key, as deploy/ does).
# Build: docker build -t mirrorhook:0.1.0 .

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# A fixed numeric non-root user, so that runAsNonRoot can verify it without a passwd lookup.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["serve"]
