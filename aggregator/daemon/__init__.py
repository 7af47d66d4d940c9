"""The daemon (``aggregator run``): a front end over the service facade that polls, extracts and runs
the scheduled jobs on APScheduler, alone on SQLite or as replicas on PostgreSQL."""
