# syntax=docker/dockerfile:1
# The operator CLI `drive-index` with the SQL migrations: the migrate/topics init job, the watch-renew
# CronJob and ad-hoc runbook commands. Build from the repository root:
#   docker build -f deploy/cli.Dockerfile -t drive-index-cli .
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# A current pip: older resolvers backtrack into unsatisfiable OpenTelemetry pins.
RUN pip install --no-cache-dir --upgrade pip
COPY libs/shared /src/libs/shared
COPY libs/drive /src/libs/drive
COPY libs/cli /src/libs/cli
# The CLI embeds nothing (`drive-index search` asks the search service): no model, no Cohere SDK.
# Every path in one call, so pip takes the drive-index-* libraries from here rather than from an index.
RUN pip install --no-cache-dir /src/libs/shared /src/libs/drive /src/libs/cli

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app
COPY --from=build /opt/venv /opt/venv
COPY db/migrations /app/db/migrations
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MIGRATIONS_DIR=/app/db/migrations \
    OTEL_SERVICE_NAME=drive-index-cli \
    LOG_FORMAT=json
WORKDIR /app
USER 10001:10001
ENTRYPOINT ["drive-index"]
CMD ["migrate", "--dir", "/app/db/migrations"]
