"""The one place that wires the application: settings and feeds.yaml in, an App out.

Every CLI command and the daemon start from :func:`make_app`; nothing else
creates engines, units of work, HTTP clients, worker pools or clocks. The App holds
feeds.yaml as frozen values (:class:`~aggregator.configuration.Configuration`),
never pydantic models. Light to import: the HTTP client's modules load when a
fetcher is first asked for.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from aggregator import __version__
from aggregator.config.settings import Settings
from aggregator.configuration import Configuration
from aggregator.errors import ConfigError
from aggregator.ops_types import Instance
from aggregator.poll_types import SyncReport
from aggregator.stopping import Stopping
from aggregator.store import db
from aggregator.taxonomy import Taxonomy

if TYPE_CHECKING:
    from aggregator.feeds.poll import ParsePool
    from aggregator.workers import WorkerPool

if TYPE_CHECKING:
    import httpx

    from aggregator.config.models import FeedsFile
    from aggregator.net.fetch import Fetcher, FetchSettings

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    settings: Settings
    config: Configuration
    """feeds.yaml as frozen values."""
    config_path: Path
    engine: sa.Engine
    clock: Clock
    rng: random.Random
    parse_workers: int
    """Worker processes for feed parsing (0: parse in the polling process)."""
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None
    taxonomy: Taxonomy = field(init=False)
    """The digest's sections as frozen values (what the layers below read)."""
    stopping: Stopping = field(default_factory=Stopping, init=False)
    """The daemon's request to stop, which every poll and extraction of this App honours."""
    _writer_engine: sa.Engine = field(init=False, repr=False)
    _parse_pool: ParsePool | None = field(default=None, init=False, repr=False)
    _extraction_pool: WorkerPool | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.taxonomy = self.config.taxonomy
        self._writer_engine = self.engine.execution_options(immediate=True)

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A unit of work that only reads.

        A database that is busy past the timeout, unreachable, read-only or not
        a database at all raises :class:`~aggregator.errors.StorageError`
        naming it and saying what to do (here and in :meth:`write`).
        """
        with db.storage_errors(self.engine), self.engine.begin() as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A unit of work that writes; committed when the block ends without error, else nothing of it."""
        with db.storage_errors(self.engine), self._writer_engine.begin() as s:
            yield s

    def reconfigure(self, config: Configuration) -> None:
        """Take a reloaded feeds.yaml (the daemon's SIGHUP): its feeds, sections and fetch limits.

        Polls that start afterwards use it; the caller syncs the feeds table
        (:meth:`sync_feeds`) and runs this between polls, never during one.
        """
        cap_changed = config.fetch.max_body_bytes != self.config.fetch.max_body_bytes
        self.config = config
        self.taxonomy = config.taxonomy
        self.__dict__.pop("fetch_settings", None)  # made again from the new limits on first use
        parse = self._parse_pool
        if parse is not None and cap_changed:
            self._parse_pool = None  # its documents are read with the old body cap
            parse.close()

    @cached_property
    def fetch_settings(self) -> FetchSettings:
        """feeds.yaml's fetch limits as the fetcher takes them."""
        from aggregator.net.fetch import FetchSettings

        fc = self.config.fetch
        return FetchSettings(
            user_agent=f"aggregator/{__version__} (+{fc.user_agent_contact})",
            connect_timeout=fc.connect_timeout,
            read_timeout=fc.read_timeout,
            deadline=fc.deadline,
            max_body_bytes=fc.max_body_bytes,
            max_redirects=fc.max_redirects,
            concurrency=fc.concurrency,
            per_host=fc.per_host,
            allow_private_networks=fc.allow_private_networks,
        )

    def fetcher(self) -> Fetcher:
        from aggregator.net.fetch import Fetcher

        return Fetcher(self.fetch_settings, transport_factory=self.transport_factory)

    def fetching(self, shared: Fetcher | None = None) -> AbstractAsyncContextManager[Fetcher]:
        """A fetcher for one job: ``shared`` as is (its owner closes it), else a new one of its own.

        Work that runs side by side (a poll and its extraction) shares one, so
        a host's feed and its article pages share one per-host limit.
        """
        return contextlib.nullcontext(shared) if shared is not None else self.fetcher()

    @property
    def lease(self) -> timedelta:
        """How long a poll's claim on a feed lasts: well past any one fetch's deadline."""
        return max(timedelta(minutes=10), timedelta(seconds=self.config.fetch.deadline * 3))

    def sync_feeds(self) -> SyncReport:
        from aggregator.store import repo  # the feed queries: not for commands that only read the queue

        with self.write() as s:
            return repo.sync_feeds(s, self.config.feeds, self.clock())

    # -- what lives as long as the process: its instance id, its worker pools ------------------

    @property
    def instance(self) -> Instance:
        """This process as its claims on feeds name it (see :func:`this_instance`)."""
        return this_instance()

    @property
    def instance_id(self) -> str:
        return self.instance.id

    def parse_pool(self, feeds: int) -> ParsePool:
        """The parse pool, fit for a poll of ``feeds`` feeds: made on first use, kept for later polls.

        A poll gets a worker per 20 feeds, up to ``parse_workers``: when a poll
        needs more workers than the pool has, a bigger pool replaces it (polls
        in one process run one at a time). Its workers start with the first
        document and end with :meth:`close`.
        """
        from aggregator.feeds.poll import PARSE_MEMORY, PARSE_TIME_LIMIT, ParsePool, parse_workers_for

        workers = parse_workers_for(feeds, self.parse_workers)
        pool = self._parse_pool
        if pool is not None and pool.workers >= workers:
            return pool
        if pool is not None:
            pool.close()
        self._parse_pool = ParsePool(
            workers,
            max_bytes=self.fetch_settings.max_body_bytes,
            timeout=PARSE_TIME_LIMIT,
            memory_limit=PARSE_MEMORY,
        )
        return self._parse_pool

    def extraction_pool(self) -> WorkerPool:
        """The extraction workers: made on first use, started once there are pages, kept until closed."""
        if self._extraction_pool is None:
            from aggregator.articles.pages import make_pool

            self._extraction_pool = make_pool(self.parse_workers)
        return self._extraction_pool

    def close(self) -> None:
        """Stop the worker pools, then close the database's connections."""
        parse, self._parse_pool = self._parse_pool, None
        extraction, self._extraction_pool = self._extraction_pool, None
        try:
            if parse is not None:
                parse.close()
            if extraction is not None:
                extraction.close()
        finally:
            self.engine.dispose()


_instance: Instance | None = None


def this_instance() -> Instance:
    """This process's instance: a UUID drawn on first use, with the host and PID it runs as.

    A forked child draws its own. A restarted container gets a new id even
    though its PID (1) and host name are those of its previous life.
    """
    import uuid

    global _instance
    pid = os.getpid()
    if _instance is None or _instance.pid != pid:
        _instance = Instance(str(uuid.uuid4()), socket.gethostname(), pid)
    return _instance


def open_engine(settings: Settings) -> sa.Engine:
    """The engine for the database ``settings`` name.

    The default SQLite file's folder (AGGREGATOR_DATA_DIR) is created on first
    use, as the quick start expects. A SQLite file named by
    AGGREGATOR_DATABASE_URL must be in a folder that exists: a typo in the URL
    must not start a new, empty service beside the real one.
    """
    url = settings.resolved_database_url()
    path = db.sqlite_file(url)
    if path is not None:
        _check_folder(path.parent, explicit=bool(settings.database_url))
    return db.create_engine_for(url, busy_timeout=settings.database_busy_timeout)


def _check_folder(folder: Path, *, explicit: bool) -> None:
    if folder.is_dir():
        return
    variable = "AGGREGATOR_DATABASE_URL" if explicit else "AGGREGATOR_DATA_DIR"
    if folder.exists():
        problem = f"{folder} is not a folder (point {variable} at a folder)"
    elif explicit:
        problem = (
            f"the folder {folder} of the SQLite file does not exist (fix the URL; for a new database, "
            "create the folder first)"
        )
    else:
        try:
            folder.mkdir(parents=True, exist_ok=True)  # another command may create it at once
            return
        except OSError as exc:
            problem = (
                f"cannot create the folder {folder} for the database: {exc.strerror or exc} "
                f"(point {variable} at a folder, or at a path where one can be created)"
            )
    raise ConfigError("environment", [f"environment: {variable}: {problem}"])


def make_app(
    settings: Settings,
    config: Configuration | FeedsFile,
    *,
    config_path: Path = Path("feeds.yaml"),
    clock: Clock | None = None,
    rng: random.Random | None = None,
    parse_workers: int | None = None,
    transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
    migrate: bool = True,
) -> App:
    """Build the application; with ``migrate``, bring the schema up to date (or refuse a newer one).

    ``config`` is feeds.yaml's frozen values (:func:`aggregator.config.load_configuration`), or the
    validated models (:func:`aggregator.config.load_config`), frozen here.
    """
    if not isinstance(config, Configuration):
        from aggregator.config.cache import freeze

        config = freeze(config)
    engine = open_engine(settings)
    if migrate:
        try:
            db.ensure_schema(engine)
        except Exception:
            engine.dispose()
            raise
    return App(
        settings=settings,
        config=config,
        config_path=config_path,
        engine=engine,
        clock=clock or utc_now,
        rng=rng or random.Random(),
        parse_workers=settings.worker_count() if parse_workers is None else parse_workers,
        transport_factory=transport_factory,
    )
