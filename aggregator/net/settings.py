"""How the fetcher behaves: timeouts, the deadline, the body cap, redirects, concurrency, allowed networks."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

__all__ = ["FetchSettings"]


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str
    """e.g. "aggregator/0.1 (+https://contact.example)", sent on every request."""
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0
    """Seconds for a whole fetch (redirects and body included), counted from its first slot."""
    max_body_bytes: int = 10 * 1024 * 1024
    """Cap on the body after decompression."""
    max_redirects: int = 5
    concurrency: int = 64
    per_host: int = 4
    """Requests at once to one (host, port)."""
    allow_private_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    """Networks article links may reach although they are not public."""

    def __post_init__(self) -> None:
        for name in ("concurrency", "per_host", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"FetchSettings.{name} must be at least 1, not {getattr(self, name)}")
        for name in ("connect_timeout", "read_timeout", "deadline"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FetchSettings.{name} must be positive, not {getattr(self, name)}")
        if self.max_redirects < 0:
            raise ValueError(f"FetchSettings.max_redirects must be 0 or more, not {self.max_redirects}")
