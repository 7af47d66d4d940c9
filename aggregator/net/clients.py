"""Where the fetcher's requests wait and which client sends them: a semaphore per (host, port), and the kept
article-page clients, each bound to one host name at one checked address.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

import httpx

__all__ = ["HostSlots", "PageClients", "PageKey"]


class HostSlots:
    """A semaphore per (host, port), forgotten when nobody holds or waits for it."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._slots: dict[tuple[str, int], tuple[asyncio.Semaphore, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: tuple[str, int]) -> AsyncIterator[None]:
        semaphore, users = self._slots.setdefault(key, (asyncio.Semaphore(self._size), [0]))
        users[0] += 1
        try:
            async with semaphore:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._slots[key]


PageKey = tuple[str, str, int, str]
"""(scheme, host name, port, the checked address connected to)."""


class PageClients:
    """Clients for article pages, each bound to one host name at one checked address, kept for reuse.

    A client only ever connects to the address in its key and sends its host's name (Host
    header and TLS server name), so a kept-alive connection is reused only for the same name,
    and only after the guard has checked that address again for the fetch at hand. Beyond
    ``size`` clients, the least recently used idle ones are closed.
    """

    def __init__(self, new_client: Callable[[], httpx.AsyncClient], size: int) -> None:
        self._new_client = new_client
        self._size = size
        self._clients: OrderedDict[PageKey, tuple[httpx.AsyncClient, list[int]]] = OrderedDict()

    @contextlib.asynccontextmanager
    async def hold(self, key: PageKey) -> AsyncIterator[httpx.AsyncClient]:
        entry = self._clients.get(key)
        if entry is None:
            await self._make_room()
            entry = self._clients[key] = (self._new_client(), [0])
        self._clients.move_to_end(key)
        client, users = entry
        users[0] += 1
        try:
            yield client
        finally:
            users[0] -= 1

    async def _make_room(self) -> None:
        idle = [key for key, (_, users) in self._clients.items() if users[0] == 0]
        for key in idle[: max(0, len(self._clients) + 1 - self._size)]:
            client, _ = self._clients.pop(key)
            await client.aclose()

    async def aclose(self) -> None:
        clients = [client for client, _ in self._clients.values()]
        self._clients.clear()
        for client in clients:
            await client.aclose()
