# aggregator's daemon (`aggregator run`): polls the feeds of /etc/aggregator/feeds.yaml
# into $AGGREGATOR_DATABASE_URL (default: SQLite under the /data volume).
#
#   docker build -t aggregator .
#   docker run -d --name aggregator -v aggregator-data:/data \
#       -v "$PWD/feeds.yaml:/etc/aggregator/feeds.yaml:ro" aggregator
#
# Replicas on PostgreSQL: compose.yaml. Worker processes follow the CPUs the
# container may use (--cpus, --cpuset-cpus); AGGREGATOR_WORKERS overrides.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/aggregator/bin:$PATH \
    AGGREGATOR_DATA_DIR=/data \
    AGGREGATOR_CONFIG=/etc/aggregator/feeds.yaml

# The build context the install needs, and nothing else (see .dockerignore).
WORKDIR /src
COPY pyproject.toml constraints.txt README.md alembic.ini ./
COPY aggregator ./aggregator
COPY alembic ./alembic
COPY docker/install.sh ./docker/install.sh
RUN sh docker/install.sh /src /opt/aggregator \
    && rm -rf /src \
    && useradd --system --uid 10001 --home-dir /data --create-home aggregator

COPY feeds.yaml /etc/aggregator/feeds.yaml
USER aggregator
VOLUME ["/data"]
WORKDIR /data

# Alive: the database answers, its schema is this version's, and this container's
# daemon sent a heartbeat within two minutes (it beats with every tick).
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 CMD ["aggregator", "health"]

# SIGTERM (docker stop) lets in-flight fetches finish, releases their leases and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["aggregator"]
CMD ["run"]
