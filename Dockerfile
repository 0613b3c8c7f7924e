# syntax=docker/dockerfile:1
# The platform's one image: the gateway, the case worker, every agency's service and the
# `seamless` command (provisioning, health checks), chosen by the container's command
# (docker-compose.yml). Runtime dependencies only, run as an unprivileged user, on a
# read-only root file system: nothing is written outside the mounted volumes and /tmp.

ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm

# ----- build: a virtual environment with the project and its dependencies -------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 \
    UV_NO_CACHE=1 UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1
WORKDIR /opt/seamless
# The same lockfile as `make venv` and CI: uv, pinned by hash, then every package uv.lock
# names with its hashes (the runtime ones and setuptools, which builds the project; no
# development tools), in a layer of their own: a change to the code alone does not
# reinstall them.
COPY uv-requirements.txt ./
RUN python -m venv /opt/uv && /opt/uv/bin/pip install --require-hashes -r uv-requirements.txt
COPY pyproject.toml uv.lock README.md ./
RUN /opt/uv/bin/uv sync --locked --no-install-project --no-editable --python python3
COPY proto/ proto/
COPY trust/ trust/
COPY observability/ observability/
COPY records/ records/
COPY workflows/ workflows/
COPY agencies/ agencies/
COPY gateway/ gateway/
COPY cli/ cli/
# A regular install: the packages' data (the catalog, the console's templates and static
# files, the migrations) travels inside them (pyproject.toml's package-data), so the
# runtime stage needs the virtual environment alone.
RUN /opt/uv/bin/uv sync --locked --no-editable --python python3

# ----- runtime ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# The data directory a volume is mounted on is the user's own and private (a new volume
# takes its owner and mode from here); the code stays root's, read-only to the user.
RUN groupadd --gid 10001 seamless \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/seamless \
        --shell /usr/sbin/nologin seamless \
    && install --directory --owner=10001 --group=10001 --mode=0700 /var/lib/seamless
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /var/lib/seamless
USER 10001:10001
CMD ["seamless", "--help"]
