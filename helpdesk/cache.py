"""The cache's backend: Django's Redis cache with a serializer that cannot run code on load (JSON
with a few tagged types), and one Redis client kept instead of a new one each call.

Django's Redis cache pickles by default, and unpickling what another process wrote into Redis runs
whatever that process chose (https://docs.python.org/3/library/pickle.html, the warning at the top).
This serializer reads back only JSON: numbers, strings, lists, dicts, and tagged tuples, sets
(of whole numbers: packed in one string), dates, datetimes and the dataclasses named in
:data:`ALLOWED_DATACLASSES` (built from their fields, by keyword: data, not code). A value that is
not such JSON is read as a cache miss.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import sys
import zlib
from array import array
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

#: The dataclasses that may be cached, by import path.
ALLOWED_DATACLASSES = frozenset({"inbox.mailbox.counts.FlagSample"})


class ReusedClientRedisCache(DjangoRedisCache):
    """Django's Redis cache, keeping one ``redis.Redis`` per connection pool.

    Django's client builds a new ``redis.Redis`` for every cache call (``get_client``), and
    redis-py fills each new one's table of ~170 response callbacks: 0.18 ms a call here, more than
    the round trip to Redis. A ``redis.Redis`` holds no connection of its own (it borrows one from
    the pool for each command) and is safe to share between threads
    (https://redis.readthedocs.io/en/stable/connections.html#generic-client), so one per pool
    does the same work. Django keeps a cache object per thread anyway."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClient


class _ReusedClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class SafeJSONSerializer:
    """For ``CACHES[...]["OPTIONS"]["serializer"]`` of Django's RedisCache.

    Whole numbers stay raw, as Django's own serializer keeps them, so ``incr`` works on them.
    """

    def dumps(self, obj: Any) -> bytes | int:
        if type(obj) is int:
            return obj
        return json.dumps(_encode(obj), separators=(",", ":"), ensure_ascii=False).encode()

    def loads(self, data: bytes | int) -> Any:
        if isinstance(data, int):
            return data
        try:
            return int(data)
        except ValueError:
            pass
        try:
            return _decode(json.loads(data))
        except (ValueError, TypeError, KeyError, ImportError, zlib.error) as exc:
            logger.warning("Ignored a cache value that is not this app's JSON (%s).", type(exc).__name__)
            return None


def _encode(obj: Any) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [_encode(item) for item in obj]
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(item) for item in obj]}
    if isinstance(obj, (set, frozenset)):
        packed = _packed_ints(obj)
        if packed is not None:
            return {"__ints__": packed, "frozen": isinstance(obj, frozenset)}
        return {"__set__": [_encode(item) for item in obj], "frozen": isinstance(obj, frozenset)}
    if isinstance(obj, dict):
        if all(isinstance(key, str) and not key.startswith("__") for key in obj):
            return {key: _encode(value) for key, value in obj.items()}
        rows = _scalar_rows(obj)
        if rows is not None:
            return {"__rows__": rows}
        return {"__items__": [[_encode(key), _encode(value)] for key, value in obj.items()]}
    if isinstance(obj, datetime):
        return {"__datetime__": obj.isoformat()}
    if isinstance(obj, date):
        return {"__date__": obj.isoformat()}
    if isinstance(obj, timedelta):
        return {"__timedelta__": obj.total_seconds()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        if name in ALLOWED_DATACLASSES:
            fields = {f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
            return {"__dataclass__": name, "fields": fields}
    raise TypeError(f"{type(obj).__name__} values are not cached (add them to helpdesk/cache.py).")


_SCALARS = frozenset({type(None), bool, int, float, str})


def _scalar_rows(mapping: dict) -> list | None:
    """A dict keyed by tuples of plain values, with plain values (the counts' groups: (account,
    incoming, unread, awaiting) -> n), as rows ``[*key, value]``: one list JSON writes and reads
    as it is, where each key as a tagged tuple took a call per item both ways (1 ms for 400
    groups). None for any other dict."""
    if not mapping or not all(type(key) is tuple for key in mapping):
        return None
    if not {type(item) for key in mapping for item in key} | {type(value) for value in mapping.values()} <= _SCALARS:
        return None
    return [[*key, value] for key, value in mapping.items()]


def _packed_ints(items: set | frozenset) -> str | None:
    """A set of whole numbers (the message ids of a view's counts) as one string: sorted, 64-bit
    little-endian, zlib-compressed (ids close together: ten thousand of them in 19 kB instead of
    107), base64. About 1 ms where a JSON list of them took 8 ms (every item through
    :func:`_encode`). None for any other set (or numbers too big for 64 bits)."""
    if not items or set(map(type, items)) != {int}:
        return None
    try:
        packed = array("q", sorted(items))
    except OverflowError:
        return None
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(zlib.compress(packed.tobytes(), 1)).decode("ascii")


def _unpacked_ints(text: str) -> array:
    packed = array("q")
    packed.frombytes(zlib.decompress(base64.b64decode(text, validate=True)))
    if sys.byteorder != "little":
        packed.byteswap()
    return packed


def _decode(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_decode(item) for item in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tuple__" in obj:
        return tuple(_decode(item) for item in obj["__tuple__"])
    if "__set__" in obj:
        items = [_decode(item) for item in obj["__set__"]]
        return frozenset(items) if obj.get("frozen") else set(items)
    if "__ints__" in obj:
        items = _unpacked_ints(obj["__ints__"])
        return frozenset(items) if obj.get("frozen") else set(items)
    if "__rows__" in obj:
        if not all(type(row) is list and row for row in obj["__rows__"]):
            raise ValueError("a row of groups is not a list ending in its value")
        return {tuple(row[:-1]): row[-1] for row in obj["__rows__"]}
    if "__items__" in obj:
        return {_decode(key): _decode(value) for key, value in obj["__items__"]}
    if "__datetime__" in obj:
        return datetime.fromisoformat(obj["__datetime__"])
    if "__date__" in obj:
        return date.fromisoformat(obj["__date__"])
    if "__timedelta__" in obj:
        return timedelta(seconds=obj["__timedelta__"])
    if "__dataclass__" in obj:
        name = obj["__dataclass__"]
        if name not in ALLOWED_DATACLASSES:
            raise ValueError(f"{name} is not a cached dataclass")
        cls = import_string(name)
        return cls(**{key: _decode(value) for key, value in obj["fields"].items()})
    return {key: _decode(value) for key, value in obj.items()}
