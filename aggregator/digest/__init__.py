"""The digest wing: monthly issues as values, their Markdown, lint, order and the import of old digests.

    names          check_name, month_of: an issue's name, ``YYYY-MM``             (pure)
    model          Digest and its sections and items, order_items, build_digest      (pure)
    markdown       the escaping filters: md_text, md_url, link, headline             (pure)
    render         render(): Jinja2 templates (the only module importing Jinja2)
    lint           lint_findings(): what to look at before publishing              (pure)
    read           parse_digest(): an existing digest placed in the taxonomy        (pure)
    read_lines     its line patterns: headings, items, links, (Mon YYYY, Label)      (pure)
    read_headings  its heading rules: which section a heading names                  (pure)
    issues         list, load, lint and publish an issue over the store
    moves          ``digest move``: a subsection's order over the store
    import_plan    what importing a parsed digest does (every refusal)
    import_apply   the import's writes and what each did

The wing reads the taxonomy as :class:`aggregator.taxonomy.Taxonomy` (never feeds.yaml's models);
the modules over the store take the caller's session (the facade, ``service/digests.py``, owns it).
"""
