FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Generated secrets (and an embedded PostgreSQL, without DATABASE_URL) live here: the installed
# package's own directory is root's and read-only for the service user.
ENV DXLINK_DATA_DIR=/data

RUN useradd --create-home --uid 10001 --user-group dxlink \
    && mkdir /data && chown dxlink:dxlink /data && chmod 700 /data

WORKDIR /app

# README.md is the project's readme in pyproject.toml, so it must be there before pip install.
# tests/test_install.py copies what these lines copy and installs it the same way.
COPY pyproject.toml README.md alembic.ini ./
COPY service/ service/
COPY schema/ schema/
COPY resolvers/ resolvers/
COPY auth/ auth/
COPY seeds/ seeds/
COPY migrations/ migrations/

# GraphiQL's pinned, hash-checked files from the npm registry (service/ide/assets.toml), fetched
# into the source tree first so that the wheel carries them as package data; then the runtime
# dependencies only (no [test] extra); drop the in-tree build leftovers.
RUN python -m service.ide && pip install . && rm -rf build *.egg-info

# Code stays root-owned and read-only for the service user. Set DATABASE_URL when running (the
# owner's login, which migrates and seeds; the API itself connects as DXLINK_DB_RUNTIME_USER):
# without it `dxlink serve` would try to start an embedded PostgreSQL in /data.
USER dxlink

# Declared after the chown, so that a new volume starts out as the service user's.
VOLUME ["/data"]

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["dxlink", "serve", "--host", "0.0.0.0", "--port", "8000"]
