"""A small HTTP/1.1 client connection over asyncio streams (for `AsyncClient`).

Enough of RFC 9112 for the plancache server: requests with a
`Content-Length` body, answers framed by `Content-Length`, `chunked`, or the
end of the connection; keep-alive unless either side says `close`.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from typing import AsyncIterator, Dict, Optional, Tuple

_LINE_LIMIT = 1 << 20  # longest head line or chunk-size line read


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 as expected."""


class Connection:
    """One keep-alive connection. Not shared: one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reusable = True

    @classmethod
    async def open(cls, host: str, port: int, tls: bool) -> "Connection":
        context = _ssl.create_default_context() if tls else None
        reader, writer = await asyncio.open_connection(host, port, ssl=context, limit=_LINE_LIMIT)
        return cls(reader, writer)

    def usable(self) -> bool:
        return self.reusable and not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.reusable = False
        self.writer.close()

    async def send(self, method: str, target: str, host: str, headers: Dict[str, str],
                   body: Optional[bytes]) -> None:
        lines = ["%s %s HTTP/1.1" % (method, target), "Host: " + host]
        lines += ["%s: %s" % kv for kv in headers.items()]
        lines.append("Content-Length: %d" % len(body or b""))
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        await self.writer.drain()

    async def read_head(self) -> Tuple[int, Dict[str, str]]:
        line = await self.reader.readline()
        if not line:
            raise ConnectionResetError("the server closed the connection before answering")
        parts = line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError("bad status line %r" % line[:100])
        status = int(parts[1])
        headers: Dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise ProtocolError("connection closed inside the answer's head")
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0":
            self.reusable = False
        return status, headers

    async def body_chunks(self, headers: Dict[str, str]) -> AsyncIterator[bytes]:
        """The answer's body as it arrives (after `read_head`)."""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size_line = await self.reader.readline()
                size = int(size_line.split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                data = await self.reader.readexactly(size)
                await self.reader.readexactly(2)
                yield data
        elif "content-length" in headers:
            remaining = int(headers["content-length"])
            while remaining > 0:
                data = await self.reader.read(min(remaining, 1 << 16))
                if not data:
                    raise asyncio.IncompleteReadError(b"", remaining)
                remaining -= len(data)
                yield data
        else:
            self.reusable = False
            while True:
                data = await self.reader.read(1 << 16)
                if not data:
                    return
                yield data

    async def read_body(self, headers: Dict[str, str]) -> bytes:
        return b"".join([chunk async for chunk in self.body_chunks(headers)])
