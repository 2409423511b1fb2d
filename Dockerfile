# syntax=docker/dockerfile:1
# Ownat's server image: one image, one CLI; the command picks the process (api, ingest, worker, migrate).
ARG PYTHON_IMAGE=python:3.11-slim

# Builder: installs the locked dependencies, then the app itself, into /opt/venv.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml constraints.txt ./
# The server image needs the base dependencies and the `server` extra.
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['server']))" > requirements.txt \
    && pip install -c constraints.txt -r requirements.txt

COPY . .
RUN pip install --no-deps -c constraints.txt .

# Runtime: the venv (which now holds the app as an installed package), a non-root user, nothing else.
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OWNAT_DATA_DIR=/var/lib/ownat
RUN groupadd --system --gid 10001 ownat \
    && useradd --system --uid 10001 --gid ownat --home-dir /var/lib/ownat --create-home \
        --shell /usr/sbin/nologin ownat
COPY --from=builder /opt/venv /opt/venv
WORKDIR /var/lib/ownat
USER ownat

EXPOSE 8000
# Only meaningful for `ownat api`; docker-compose.yml turns it off for the other processes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["ownat"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
