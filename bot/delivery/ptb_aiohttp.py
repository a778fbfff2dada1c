"""PTB's requests (replies, tap answers, edits) over aiohttp's keep-alive pool.

PTB ships one transport, httpx. Under a burst its pool is the bot's hottest code: httpcore
1.0 scans every pooled connection, polling each idle socket, whenever a request starts
or ends, and closes idle connections while more than 20 are open, so a burst opens a
connection (a TLS handshake with Telegram) per request. In a storm of 600 button taps,
a third of the event loop's time went there and the answers came 9-14 s after the taps,
close to Telegram's 15 s deadline (BENCHMARKS.md, section 6). aiohttp's pool hands out a
free connection without a scan and keeps what it opened; the outbox sender moved to it
for the same reason (bot/delivery/botapi.py).

The wire format is PTB's: form fields of JSON values, multipart when files go along;
errors are PTB's (`TimedOut`, `NetworkError`), so its retry and error handling apply as
they did. The getUpdates long poll keeps PTB's own transport (one request at a time).
"""

from __future__ import annotations

import aiohttp
import httpx
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.delivery.botapi import env_proxy


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout the call passed (None: no limit), else this transport's default."""
    return default if isinstance(value, DefaultValue) else value


def _form(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """PTB's parameters as aiohttp sends them: a urlencoded form, multipart with files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


class AiohttpRequest(BaseRequest):
    """A PTB request class on one aiohttp session of at most `connections` connections.

    Timeouts mean what they mean for PTB's HTTPXRequest: `connect` for opening a
    connection, `pool` for waiting for a free one, `read` for the reply (aiohttp has no
    write timeout: the reply's read timeout starts once the request is sent). Like the
    sender's client it trusts httpx's (certifi) certificates and reads the proxy
    environment once per host.
    """

    __slots__ = ("_connect", "_connections", "_pool", "_proxies", "_read", "_session")

    def __init__(
        self,
        connections: int,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 30.0,
    ) -> None:
        self._connections = connections
        self._read, self._connect, self._pool = read_timeout, connect_timeout, pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._connections, ssl=httpx.create_ssl_context()
            )
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _proxy(self, url: str) -> str | None:
        origin = url.split("/", 3)[:3]  # scheme, "", host[:port]
        key = "/".join(origin)
        if key not in self._proxies:
            self._proxies[key] = env_proxy(url)
        return self._proxies[key]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` covers the wait for a free connection and the connecting
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=_given(read_timeout, self._read),
        )
        try:
            async with session.request(
                method,
                url,
                data=_form(request_data),
                headers={"User-Agent": self.USER_AGENT},
                proxy=self._proxy(url),
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's own timeouts subclass it too
            raise TimedOut(f"Timed out: {type(exc).__name__} {exc}") from exc
        except (aiohttp.ClientError, OSError) as exc:  # refused, reset, closed mid-reply …
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
