# The control centre as a container image, for regions that run containers rather than the
# systemd unit (deploy/systemd). Not built in CI: no base image can be pulled there. Build it
# where Docker Hub or a mirror of it is reachable:
#
#   docker build -t schoolcam-centre .
#   docker run -d --name schoolcam-centre --network host \
#     -v /etc/schoolcam/centre.yaml:/etc/schoolcam/centre.yaml:ro \
#     -v schoolcam-centre:/var/lib/schoolcam-centre schoolcam-centre
#
#   docker exec -i schoolcam-centre node --import /opt/schoolcam/node_modules/tsx/dist/loader.mjs \
#     /opt/schoolcam/control-center/src/cli.ts orgs import /opt/schoolcam/config/region.kvk.yaml
#   docker exec -i schoolcam-centre node --import /opt/schoolcam/node_modules/tsx/dist/loader.mjs \
#     /opt/schoolcam/control-center/src/cli.ts users add --username admin --role admin --org kvk --password-stdin
#
# --network host: WebRTC sends video to viewers from UDP ports chosen at run time, which a
# port-mapped bridge network cannot publish. The configuration (config/centre.example.yaml) is
# mounted, not baked in. The volume keeps the SQLite database across upgrades (a new image
# migrates it on start); the first time, add the region and an admin as above.

FROM node:24-bookworm-slim AS build
# better-sqlite3 12 is compiled here against the image's own Node headers: nothing is
# downloaded at install time (no prebuilt binary, no header tarball).
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_build_from_source=true npm_config_nodedir=/usr/local
WORKDIR /opt/schoolcam
COPY package.json package-lock.json .npmrc tsconfig.base.json ./
COPY protocol/package.json protocol/
COPY device-sim/package.json device-sim/
COPY gateway/package.json gateway/
COPY control-center/package.json control-center/
COPY tests/package.json tests/
RUN npm ci --no-audit --no-fund
COPY protocol/ protocol/
COPY control-center/ control-center/
COPY config/ config/
# The dashboard's content-hashed files (the centre refuses to start without them).
RUN npm run build:web
# Only the centre and the library it builds on are shipped.
RUN rm -rf protocol/test control-center/test device-sim tests node_modules/@schoolcam/device-sim node_modules/@schoolcam/tests

FROM node:24-bookworm-slim
WORKDIR /opt/schoolcam
COPY --from=build /opt/schoolcam ./
RUN mkdir -p /var/lib/schoolcam-centre && chown node:node /var/lib/schoolcam-centre
USER node
WORKDIR /var/lib/schoolcam-centre
VOLUME /var/lib/schoolcam-centre
# Listen on every interface of the container, on the port the health check knocks at (HTTP or
# HTTPS alike), with the database in the volume whatever the config's dataDir says.
ENV SCHOOLCAM_CENTER_HOST=0.0.0.0 SCHOOLCAM_CENTER_PORT=8080 SCHOOLCAM_DATA_DIR=/var/lib/schoolcam-centre
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s \
  CMD ["node", "-e", "require('node:net').connect(Number(process.env.SCHOOLCAM_CENTER_PORT), '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"]
# node handles SIGTERM itself (the centre closes its links and the database), so docker stop is clean.
CMD ["node", "--import", "/opt/schoolcam/node_modules/tsx/dist/loader.mjs", "/opt/schoolcam/control-center/src/cli.ts", "--config", "/etc/schoolcam/centre.yaml"]
