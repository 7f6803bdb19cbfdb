# One image for every Depictio process; the command picks the process:
#   python -m auth_svc | metadata_svc | data_svc | gateway | dash_apps | worker
# Build from the repository root: docker build -t depictio .
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# gcc builds data_svc's C loops (data_svc/kernels.c); only this stage has it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
# Only what the distribution is built from (see .dockerignore): a change to tests or deploy/
# files does not rebuild the image.
COPY . .
RUN python -m venv /opt/depictio \
    && /opt/depictio/bin/pip install --upgrade pip \
    && /opt/depictio/bin/pip install .

FROM python:3.11-slim

# Debian's chromium: the worker draws dashboard thumbnails with it (through Playwright).
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 depictio \
    && useradd --system --uid 10001 --gid depictio --home-dir /var/lib/depictio \
       --create-home --shell /usr/sbin/nologin depictio
COPY --from=build /opt/depictio /opt/depictio

ENV PATH=/opt/depictio/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DEPICTIO_DATA_DIR=/var/lib/depictio
WORKDIR /var/lib/depictio
USER 10001:10001

# gRPC services, gateway, UI (each process listens on one of them; see deploy/).
EXPOSE 50051 50052 50053 8000 8050
# The services handle SIGTERM themselves (NOT_SERVING, then a graceful stop).
STOPSIGNAL SIGTERM
CMD ["python", "-m", "gateway"]
