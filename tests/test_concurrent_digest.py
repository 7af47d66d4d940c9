"""Two curators (or two imports) opening the same new digest issue at once on PostgreSQL.

The race is made certain rather than likely: the first transaction opens the
issue and waits, uncommitted, until PostgreSQL shows the second one blocked
behind it; only then does it commit. Before, the second failed on the unique
name (``IntegrityError``: two first promotions of a month), or, for two imports
of one file, on the candidates both planned to add.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection

from aggregator.app import App, make_app
from aggregator.config import Settings, load_config
from aggregator.digest import import_apply, import_plan
from aggregator.digest.read import parse_digest
from aggregator.store import digest_import
from aggregator.store import digests as store
from aggregator.store.tables import candidates, digest_items, digests
from tests.conftest import postgres_schema_url
from tests.fixture_server import FixtureServer
from tests.stock import T0, Stock, stock

pytestmark = pytest.mark.postgres
DIGEST = """# Test Digest

## 1. Research
### 1.2. NLP
* [Reading Long Documents (Nov 2022, Example Lab)](https://lab.example.org/blog/long-documents)
    * a note
* [Serving Many Small Models (Dec 2022)](https://example.com/many-models)

## 2. Business Cases
### 2.4. Training, Inference and MLOps
* [Batch Inference at Scale (Dec 2022, Example Corp)](https://corp.example.com/batch)
"""


@pytest.fixture
def shop(tmp_path: Path, server: FixtureServer) -> Iterator[tuple[Stock, App]]:
    urls = postgres_schema_url()
    url = next(urls)
    shop = stock(server, tmp_path, url, {"alpha": ["Alpha one", "Alpha two"]})
    twin = make_app(Settings(database_url=url), load_config(shop.config_path), config_path=shop.config_path)
    try:
        yield shop, twin
    finally:
        twin.close()
        shop.app.close()
        urls.close()


def blocked_backends(app: App) -> int:
    """Sessions of this database waiting for a lock another transaction holds."""
    with app.engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE NOT l.granted AND a.datname = current_database()"
            ).scalar_one()
        )


def race(first: App, second: App, work: Callable[[Connection], object]) -> list[object]:
    """``work`` in ``first``'s transaction, held open until ``second``'s waits behind it; both outcomes."""
    opened = threading.Event()
    outcomes: list[object] = [None, None]

    def run(index: int, app: App, hold: bool) -> None:
        try:
            with app.write() as s:
                outcomes[index] = work(s)
                if hold:
                    opened.set()
                    waited = 0.0
                    while blocked_backends(first) == 0 and waited < 30:  # PostgreSQL's own state
                        threading.Event().wait(0.02)
                        waited += 0.02
        except BaseException as exc:  # the test reads it
            outcomes[index] = exc
            opened.set()

    holder = threading.Thread(target=run, args=(0, first, True))
    holder.start()
    assert opened.wait(30)
    follower = threading.Thread(target=run, args=(1, second, False))
    follower.start()
    holder.join(60)
    follower.join(60)
    return outcomes


def test_two_first_promotions_of_a_month_open_one_issue(shop: tuple[Stock, App]) -> None:
    stock_, twin = shop
    outcomes = race(stock_.app, twin, lambda s: store.open_issue(s, "2031-01", T0))

    assert not any(isinstance(o, BaseException) for o in outcomes), outcomes
    assert outcomes[0] == outcomes[1]
    with twin.read() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(digests)).scalar_one() == 1


def test_two_imports_of_one_digest_at_once_import_it_once(shop: tuple[Stock, App]) -> None:
    stock_, twin = shop
    parsed = parse_digest(DIGEST, stock_.app.taxonomy, source="d.md")
    assert not parsed.problems and len(parsed.items) == 3

    def import_it(s: Connection) -> import_plan.ImportReport:
        digest_import.lock_imports(s)
        plan = import_plan.plan_import(s, parsed, "2022-12", stock_.app.taxonomy, source="d.md")
        return import_apply.apply_import(s, plan, T0, "curator")

    first, second = race(stock_.app, twin, import_it)

    assert isinstance(first, import_plan.ImportReport) and isinstance(second, import_plan.ImportReport), (
        first,
        second,
    )
    assert (first.created, second.created) == (3, 0)  # the second found what the first added
    with twin.read() as s:
        items = s.execute(sa.select(sa.func.count()).select_from(digest_items)).scalar_one()
        imported = s.execute(
            sa.select(sa.func.count()).select_from(candidates).where(candidates.c.status == "promoted")
        ).scalar_one()
    assert items == imported == len(parsed.items)
