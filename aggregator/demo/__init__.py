"""``aggregator demo``: the whole loop offline, on invented blogs served from 127.0.0.1.

``content`` holds the blogs and posts as compact data (English, Korean, Japanese),
``site`` renders them as RSS, Atom, JSON Feed and article pages and serves them
(or the feed files ``corpus`` finds in a folder and below it) from a small HTTP
server on a free port, and ``run`` drives the real pipeline through the service
facade. A front end beside ``cli``, ``tui`` and ``daemon``: it calls
:mod:`aggregator.service`, never the store.
"""
