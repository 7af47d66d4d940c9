# A first image: runs one poll of every feed against the database in
# $AGGREGATOR_DATABASE_URL (default: SQLite under /data). The daemon capability
# turns the command into `aggregator run`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AGGREGATOR_DATA_DIR=/data \
    AGGREGATOR_CONFIG=/etc/aggregator/feeds.yaml

WORKDIR /src
COPY pyproject.toml constraints.txt README.md alembic.ini ./
COPY aggregator ./aggregator
COPY alembic ./alembic
RUN pip install --no-cache-dir -c constraints.txt . \
    && useradd --system --home-dir /data --create-home aggregator

COPY feeds.yaml /etc/aggregator/feeds.yaml
USER aggregator
VOLUME ["/data"]
WORKDIR /data
ENTRYPOINT ["aggregator"]
CMD ["poll", "--all"]
