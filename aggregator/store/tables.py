"""SQLAlchemy Core table definitions. Contains no queries and no business logic.

The Alembic migrations in ``alembic/versions`` create exactly these tables; a
test compares the two so they cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from aggregator.triage_types import CURATOR_CHARS as CURATOR_CHARS  # the store keeps names this long

#: The longest entry key and canonical URL stored as they are, in UTF-8 bytes.
#: Both are indexed, and PostgreSQL refuses an index entry over 2,704 bytes: the
#: whole batch of feeds being written would fail with it (2,000 leaves room for
#: the suffix a digest import adds to a second key for one article). A longer
#: key is stored as its hash (stable from poll to poll); a longer URL gets no
#: canonical form (no grouping); a digest import refuses a longer link.
MAX_KEY_BYTES = 2000


class TSVECTOR(sa.types.UserDefinedType[str]):
    """PostgreSQL's ``tsvector``, without loading SQLAlchemy's PostgreSQL dialect for every command
    (the search table exists only there; its documents are written and matched in SQL)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "TSVECTOR"


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zones: values are stored as naive UTC and come back
    aware, so the rest of the code only ever sees aware UTC datetimes.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: aggregator stores aware UTC datetimes only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    # The URL polled now, and the one written in feeds.yaml (they differ after
    # a permanent redirect has been adopted).
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("config_url", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False, server_default=""),
    sa.Column("language", sa.String(35)),
    sa.Column("section_hint", sa.String(100)),
    sa.Column("weight", sa.Float, nullable=False, server_default="1"),
    sa.Column("interval_seconds", sa.Integer, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    # False once the feed is removed from feeds.yaml: kept (its candidates and
    # decisions stay), never polled.
    sa.Column("in_config", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("body_hash", sa.String(64)),
    sa.Column("title", sa.Text),
    sa.Column("site_url", sa.Text),
    sa.Column("last_polled_at", UTCDateTime),
    sa.Column("last_success_at", UTCDateTime),
    sa.Column("last_error_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    # Set when the last parsed document was malformed but still readable.
    sa.Column("last_warning", sa.Text),
    sa.Column("error_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_poll_at", UTCDateTime, index=True),
    sa.Column("gone_at", UTCDateTime),
    sa.Column("redirect_url", sa.Text),
    sa.Column("redirect_count", sa.Integer, nullable=False, server_default="0"),
    # A claim by one poller (see claims.claim_feeds): no feed is polled
    # twice at once, and a crashed poller's claims expire.
    sa.Column("lease_owner", sa.String(200)),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # When it is polled (migration 0006): `interval: auto` in feeds.yaml, the shortest
    # interval the publisher asked for at the last poll (RSS ttl, Cache-Control max-age,
    # Expires), and the interval the last poll chose.
    sa.Column("interval_auto", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("hint_seconds", sa.Integer),
    sa.Column("poll_interval_seconds", sa.Integer),
)


candidates = sa.Table(
    "candidates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    # Identity within the feed: GUID, else link, else a hash of title and date.
    sa.Column("entry_key", sa.Text, nullable=False),
    sa.Column("guid", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("canonical_url", sa.Text, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("author", sa.Text),
    sa.Column("summary", sa.Text),
    sa.Column("content", sa.Text),
    sa.Column("content_type", sa.String(50)),
    sa.Column("language", sa.String(35)),
    sa.Column("tags", sa.JSON),
    # As the feed said them, and the date we use after fallbacks and clamping.
    sa.Column("feed_published_at", UTCDateTime),
    sa.Column("feed_updated_at", UTCDateTime),
    sa.Column("published_at", UTCDateTime, nullable=False, index=True),
    sa.Column("date_source", sa.String(20), nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="new", index=True),
    # The id of its group's primary: the first candidate with the same canonical URL
    # at the poll (itself when it is the first), then the primary of its cross-post group
    # once suggested (service.suggest: publisher's domain first, then the earliest); None
    # when the entry has no http(s) link.
    sa.Column("group_id", sa.Integer, index=True),
    # Triage (aggregator.triage.states): the curator's notes, the date a snoozed
    # candidate comes back, and who last decided and when. `version` grows with
    # every decision, so a decision made on a stale view is refused.
    sa.Column("notes", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("snoozed_until", UTCDateTime, index=True),
    sa.Column("decided_at", UTCDateTime),
    sa.Column("decided_by", sa.String(CURATOR_CHARS)),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    # Suggestions (migration 0007): the subsection a candidate likely belongs to, how sure and
    # why; its importance by the curators' rules with each reason and its points; when made.
    sa.Column("suggested_section", sa.String(100)),
    sa.Column("suggestion_confidence", sa.Float),
    sa.Column("suggestion_reason", sa.Text),
    sa.Column("score", sa.Float, index=True),
    sa.Column("score_reasons", sa.JSON),
    sa.Column("suggested_at", UTCDateTime),
    sa.UniqueConstraint("feed_id", "entry_key"),
    # The queue's default listing: one status set, newest first.
    sa.Index("ix_candidates_status_published_at", "status", "published_at"),
    sa.Index("ix_candidates_feed_id_published_at", "feed_id", "published_at"),
)


articles = sa.Table(
    "articles",
    metadata,
    # One row per candidate once its page has been tried: the extracted text
    # and the page's metadata, kept apart from the candidates the queue lists.
    sa.Column(
        "candidate_id", sa.Integer, sa.ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    ),
    # How the page went: ok, too_short, challenge, paywall, not_html,
    # http_error, timeout, error. A flagged page is never stored as the text.
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("reason", sa.Text),
    # Where `text` came from: page, feed or summary (None: no text at all).
    sa.Column("text_source", sa.String(10)),
    sa.Column("text", sa.Text),
    sa.Column("word_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("page_url", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("author", sa.Text),
    sa.Column("published_at", UTCDateTime),
    sa.Column("site_name", sa.Text),
    sa.Column("language", sa.String(35)),
    sa.Column("lead_image", sa.Text),
    sa.Column("links", sa.JSON),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # When a transient failure (timeout, 5xx, 429) is tried again; None: final.
    sa.Column("next_attempt_at", UTCDateTime, index=True),
    sa.Column("extracted_at", UTCDateTime, nullable=False),
)


decisions = sa.Table(
    "decisions",
    metadata,
    # Every triage decision, one row per candidate it touched. The rows of one
    # command share a `batch`, and `aggregator undo` reverts a whole batch.
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch", sa.String(36), nullable=False, index=True),
    sa.Column(
        "candidate_id",
        sa.Integer,
        sa.ForeignKey("candidates.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("curator", sa.String(CURATOR_CHARS), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    # shortlist, promote, reject, snooze, restore, unpromote, note, wake, move, edit
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("from_status", sa.String(20), nullable=False),
    sa.Column("to_status", sa.String(20), nullable=False),
    sa.Column("digest", sa.String(7)),
    sa.Column("section", sa.String(100)),
    sa.Column("note", sa.Text),
    # What the candidate (and its digest item) looked like before, for undo,
    # and the candidate's version after, so an undo never reverts someone
    # else's later decision.
    sa.Column("before", sa.JSON, nullable=False),
    sa.Column("after_version", sa.Integer, nullable=False),
    sa.Column("undone_at", UTCDateTime),
    sa.Column("undone_by", sa.String(CURATOR_CHARS)),
    # The candidate's version after the undo.
    sa.Column("undo_version", sa.Integer),
)


digests = sa.Table(
    "digests",
    metadata,
    # One issue of the digest per month: "2024-03", a draft until published.
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(7), nullable=False, unique=True),
    sa.Column("status", sa.String(10), nullable=False, server_default="draft"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("published_at", UTCDateTime),
)


digest_items = sa.Table(
    "digest_items",
    metadata,
    # A promoted candidate's place in an issue. Title, label and month are the
    # curator's overrides (None: the candidate's title, the feed's label, the
    # month of publication); notes stay on the candidate.
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("digest_id", sa.Integer, sa.ForeignKey("digests.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "candidate_id",
        sa.Integer,
        sa.ForeignKey("candidates.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    # A full subsection id from feeds.yaml: "business/mlops".
    sa.Column("section", sa.String(100), nullable=False),
    # The curator's order within the subsection; None: newest first.
    sa.Column("position", sa.Integer),
    sa.Column("title", sa.Text),
    sa.Column("label", sa.Text),
    sa.Column("month", sa.String(7)),
    # Image lines printed after the notes, as written: "![diagram](./x.png)".
    sa.Column("images", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("promoted_at", UTCDateTime, nullable=False),
    sa.Column("promoted_by", sa.String(CURATOR_CHARS), nullable=False),
    sa.Index("ix_digest_items_digest_id_section", "digest_id", "section"),
)


candidate_search = sa.Table(
    "candidate_search",
    metadata,
    # The search index on PostgreSQL: each candidate's document (aggregator.searchtext)
    # as a tsvector of the 'simple' configuration, GIN-indexed. SQLite has an FTS5
    # virtual table of the same name instead, which SQLAlchemy cannot declare;
    # both are created by migration 0004 and written by store/search.py.
    sa.Column(
        "candidate_id", sa.Integer, sa.ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("document", TSVECTOR, nullable=False),
    # A GIN index, as migration 0004 makes it. Saying postgresql_using="gin" here would load
    # SQLAlchemy's PostgreSQL dialect into every command (35 ms) to check the keyword, and no
    # query or comparison reads it (Alembic does not compare an index's method).
    sa.Index("ix_candidate_search_document", "document"),
    info={"dialects": ("postgresql",)},
)


# The queue's walks (store/queue.py), newest first or feed by feed: each holds
# every column the queue filters on (status, feed, date), so a walk never reads
# a candidate's row to skip it. Created by migration 0004.
ix_candidates_published_at_status_feed_id = sa.Index(
    "ix_candidates_published_at_status_feed_id",
    candidates.c.published_at,
    candidates.c.status,
    candidates.c.feed_id,
)
ix_candidates_feed_id_published_at_status = sa.Index(
    "ix_candidates_feed_id_published_at_status",
    candidates.c.feed_id,
    candidates.c.published_at,
    candidates.c.status,
)


# -- the processes that claim feeds ----------------------------------------------------

instances = sa.Table(
    "instances",
    metadata,
    # A running aggregator process, as its claims on feeds name it (feeds.lease_owner = id):
    # a UUID drawn per process, the host and PID it runs as (so a claim of a process on
    # this host that has died is taken over at once), and a heartbeat written whenever it
    # claims (so a claim of an instance silent for longer than a lease is taken over).
    # Created by migration 0005.
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("heartbeat_at", UTCDateTime, nullable=False),
    # Migration 0006: "cli" for a command, "daemon" for `aggregator run`; the version it
    # runs; and a daemon's last summary (its tick's counts and its jobs' next runs), JSON.
    sa.Column("role", sa.String(20), nullable=False, server_default="cli"),
    sa.Column("version", sa.String(40)),
    sa.Column("summary", sa.JSON),
)


# -- the daemon's scheduled jobs ---------------------------------------------------------

job_runs = sa.Table(
    "job_runs",
    metadata,
    # One row per job and period ("weekly_email", "2026-W49"): inserted in the transaction
    # that claims the run, so across replicas a period's job runs once. `lease_until` bounds
    # a running claim (a replica that died mid-run); `outcome` is running, ok or failed.
    # Created by migration 0006.
    sa.Column("job", sa.String(50), primary_key=True),
    sa.Column("period", sa.String(50), primary_key=True),
    sa.Column("instance_id", sa.String(36), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("detail", sa.Text),
)


# -- the weekly email ----------------------------------------------------------------------

email_sends = sa.Table(
    "email_sends",
    metadata,
    # A week's email (ISO week, "2026-W50") sent to one recipient, recorded when the mail server
    # accepted it: a second run sends nothing new, a refused recipient is tried again. Migration 0007.
    sa.Column("week", sa.String(10), primary_key=True),
    sa.Column("recipient", sa.String(320), primary_key=True),
    sa.Column("message_id", sa.String(255), nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=False),
)
