"""The weekly email (issue 16): the week's content (``week``), rendering (``render``, ``message``),
sending (``smtp``); its plain values in ``values``."""
