"""What a front end that keeps running after a failure (the triage screen) catches from a facade call.

Aggregator's own errors, and the database's that :mod:`aggregator.store.db`
did not recognise as a failure of the database itself: the screen shows both
in a dialog instead of ending. Command-line front ends let the second kind
end with a traceback, as a bug should.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from aggregator.errors import AggregatorError

#: Caught around every database job of the triage screen.
FAILURES: tuple[type[Exception], ...] = (AggregatorError, SQLAlchemyError)


def is_database_failure(exc: BaseException) -> bool:
    """The database's own error, not one of aggregator's refusals."""
    return isinstance(exc, SQLAlchemyError)
