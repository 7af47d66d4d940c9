"""Reading a response's body within a cap: streaming gzip/deflate inflation that never produces more than it
is asked for, an error answer's first bytes, and draining a small unwanted body so its connection is reused.
"""

from __future__ import annotations

import contextlib
import zlib

import httpx

from aggregator.errors import BodyTooLargeError, FetchError

__all__ = ["ACCEPT_ENCODING", "ERROR_BODY_BYTES", "drain", "read_body", "read_error_body"]

ACCEPT_ENCODING = "gzip, deflate"  # only what _Decoder can inflate under the cap
DRAIN_LIMIT = 64 * 1024
#: The most of an article page's error body kept (and read: raw bytes and decompressed alike).
ERROR_BODY_BYTES = 64 * 1024
_INFLATE_STEP = 64 * 1024


async def read_body(response: httpx.Response, url: str, cap: int) -> bytes:
    """A 2xx answer's body, decompressed, or BodyTooLargeError past ``cap`` bytes (checked while reading)."""
    decoder = _Decoder.for_encoding(response.headers.get("content-encoding", ""), url)
    if decoder is None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise BodyTooLargeError(url, f"body larger than {_size(cap)}")
    body = bytearray()
    async for chunk in response.aiter_raw():
        if decoder is None:
            body += chunk
        else:
            decoder.feed(chunk, body, cap)
        if len(body) > cap:
            raise BodyTooLargeError(url, _too_large(cap, decoder))
    if decoder is not None:
        decoder.finish(body, cap)
        if len(body) > cap:
            raise BodyTooLargeError(url, _too_large(cap, decoder))
    return bytes(body)


class _Decoder:
    """Streaming gzip/deflate inflation that never produces more than it is asked for."""

    def __init__(self, wbits: int, url: str) -> None:
        self._wbits = wbits
        self._url = url
        self._inflater = zlib.decompressobj(wbits)
        self._pending = b""

    @classmethod
    def for_encoding(cls, header: str, url: str) -> _Decoder | None:
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if not codings:
            return None
        if len(codings) > 1:
            raise FetchError(url, f"unsupported Content-Encoding {header!r} (stacked encodings)")
        if codings[0] in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS, url)
        if codings[0] == "deflate":
            # RFC 9110 says zlib format; some servers send raw deflate. Auto-detect below.
            return cls(0, url)
        raise FetchError(url, f"unsupported Content-Encoding {codings[0]!r} (we asked for gzip or deflate)")

    def feed(self, chunk: bytes, sink: bytearray, limit: int) -> None:
        """Inflate ``chunk`` into ``sink``, stopping as soon as ``sink`` holds more than ``limit`` bytes.

        Each zlib call may produce at most ``_INFLATE_STEP`` bytes, so a bomb costs the
        cap plus one step of memory, never its inflated size.
        """
        data = self._pending + chunk
        self._pending = b""
        if self._wbits == 0:
            # Decide between zlib and raw deflate from the zlib header's check bits.
            if len(data) < 2:
                self._pending = data
                return
            zlib_header = (data[0] & 0x0F) == 8 and (data[0] * 256 + data[1]) % 31 == 0
            self._wbits = zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
            self._inflater = zlib.decompressobj(self._wbits)
        while data and len(sink) <= limit:
            step = min(_INFLATE_STEP, limit + 1 - len(sink))
            try:
                sink += self._inflater.decompress(data, step)
            except zlib.error as exc:
                raise FetchError(self._url, f"corrupt compressed body ({exc})") from None
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                data = self._inflater.unused_data
                if not data.startswith(b"\x1f\x8b") or self._wbits != 16 + zlib.MAX_WBITS:
                    return  # trailing garbage after the stream is ignored, as browsers do
                self._inflater = zlib.decompressobj(self._wbits)  # the next gzip member
        self._pending = data

    def finish(self, sink: bytearray, limit: int) -> None:
        """Inflate what is left; a truncated stream yields what it holds, as browsers do."""
        if self._pending:
            self.feed(b"", sink, limit)
        if len(sink) > limit or self._wbits == 0:
            return
        try:
            sink += self._inflater.flush()[: limit + 1 - len(sink)]
        except zlib.error as exc:
            raise FetchError(self._url, f"corrupt compressed body ({exc})") from None


async def read_error_body(response: httpx.Response, url: str) -> bytes | None:
    """The first :data:`ERROR_BODY_BYTES` of an error answer's body (decompressed), or None if empty.

    Never reads more than that many raw bytes either: a huge or endless error body costs one
    cap, and the connection is closed rather than drained. The status is the outcome, so a
    body that stalls, breaks off or cannot be decompressed yields what arrived before that.
    """
    limit = ERROR_BODY_BYTES
    body = bytearray()
    try:
        decoder = _Decoder.for_encoding(response.headers.get("content-encoding", ""), url)
    except FetchError:
        return None  # an encoding we cannot read: the status alone has to do
    raw = 0
    try:
        async for chunk in response.aiter_raw():  # the caller's response.aclose() ends the stream
            chunk = chunk[: limit - raw]
            raw += len(chunk)
            if decoder is None:
                body += chunk
            else:
                decoder.feed(chunk, body, limit)
            if raw >= limit or len(body) >= limit:
                break
        if decoder is not None and len(body) < limit:
            decoder.finish(body, limit)
    except (httpx.HTTPError, FetchError):
        pass  # a read timeout, a cut connection or corrupt compression: keep what arrived
    return bytes(body[:limit]) or None


async def drain(response: httpx.Response) -> None:
    """Read an unwanted small body so that the connection goes back to the pool.

    httpcore closes a connection whose response was not read to its end, even a 304's empty
    one; a poll of conditional GETs would otherwise open a connection per feed.
    """
    declared = response.headers.get("content-length")
    empty = response.status_code in (204, 304) or declared == "0"
    if not empty and not (declared is not None and declared.isdigit() and int(declared) <= DRAIN_LIMIT):
        return  # unknown or large: closing the connection is cheaper than reading it
    with contextlib.suppress(httpx.HTTPError):
        async for _ in response.aiter_raw():
            pass


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def _too_large(cap: int, decoder: _Decoder | None) -> str:
    return f"body larger than {_size(cap)}" + (" after decompression" if decoder is not None else "")
