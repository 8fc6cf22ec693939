"""What the cache reads back cannot run code, even when someone else wrote it into Redis."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from helpdesk.cache import SafeJSONSerializer
from inbox.mailbox.counts import FlagSample, _counts_cache_key
from inbox.mailbox.filters import InboxFilters


class CreatesAFile:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.django_db
def test_a_pickle_written_under_a_counts_key_is_never_executed(staff_client, tmp_path):
    target = tmp_path / "pwned"
    filters = InboxFilters(customer=424242)
    key = cache.make_and_validate_key(_counts_cache_key(filters))
    raw = redis.Redis.from_url(settings.REDIS_URL)
    raw.set(key, pickle.dumps(CreatesAFile(target)))
    try:
        page = staff_client.get("/?customer=424242")
        counts = staff_client.get("/inbox/counts/?customer=424242")
        direct = cache.get(_counts_cache_key(filters))
    finally:
        raw.delete(key)
        raw.close()
    assert page.status_code == 200 and counts.status_code == 200
    assert not target.exists()
    assert direct is None or isinstance(direct, tuple)


@pytest.mark.parametrize(
    "value",
    [
        None, True, 0, 7, -3, 2.5, "text", "", [1, "a"], (1, 2), {"a": 1}, {(1, True, False): 3, 5: "x"},
        frozenset({1, 2}), {3}, frozenset(range(-5, 10_000)), {2**63 - 1, -(2**63)}, {2**64, 1}, {True, False},
        {1, "a"}, {1.5, 2}, set(), frozenset(), date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, tzinfo=UTC), timedelta(seconds=5),
        (date(2026, 1, 2), {7: {date(2026, 1, 1): (1, 2)}}),
        (FlagSample(groups={(5, True, False): 2, (None, False, True): 1}, ids=frozenset({1, 2}), capped=True),),
        {"__tuple__": "a key that looks like a tag"},
        {(1, True): 2, (None, False): 0}, {(): 1}, {("__rows__", 1.5): "v"}, {(1, (2, 3)): 1}, {(1,): [1]},
    ],
)
def test_every_kind_of_cached_value_round_trips(value):
    serializer = SafeJSONSerializer()
    dumped = serializer.dumps(value)
    stored = str(dumped).encode() if isinstance(dumped, int) else dumped  # Redis keeps a string
    assert serializer.loads(stored) == value


def test_values_that_are_not_its_json_read_as_a_miss():
    serializer = SafeJSONSerializer()
    assert serializer.loads(pickle.dumps({"a": 1})) is None
    assert serializer.loads(b'{"__dataclass__": "os.system", "fields": {"command": "true"}}') is None
    assert serializer.loads(b'{"__dataclass__": "inbox.mailbox.counts.FlagSample", "fields": {"nope": 1}}') is None
    assert serializer.loads(b'{"__ints__": "not base64!"}') is None
    assert serializer.loads(b'{"__ints__": "AQID"}') is None  # not zlib's
    assert serializer.loads(b'{"__ints__": "eAFjZGIGAAANAAc="}') is None  # zlib's 3 bytes: not whole 64-bit numbers


def test_groups_keyed_by_plain_tuples_are_stored_as_rows():
    """The counts' groups ((account, incoming, unread, awaiting) -> n) go as one list of rows, not
    a tagged tuple per key; anything else in a row, or a row that is not one, reads as a miss."""
    serializer = SafeJSONSerializer()
    groups = {(1000 + a, bool(i & 4), bool(i & 2), bool(i & 1)): a * i for a in range(50) for i in range(8)}
    dumped = serializer.dumps(groups)
    assert b"__tuple__" not in dumped and dumped.startswith(b'{"__rows__":[[1000,false,false,false,0],')
    back = serializer.loads(dumped)
    assert back == groups and all(type(flag) is bool for key in back for flag in key[1:])
    assert serializer.loads(b'{"__rows__": 5}') is None
    assert serializer.loads(b'{"__rows__": [[{"a": 1}, 2]]}') is None  # a key that cannot be one
    assert serializer.loads(b'{"__rows__": [[]]}') is None and serializer.loads(b'{"__rows__": ["ab"]}') is None


def test_a_set_of_whole_numbers_is_stored_packed_and_keeps_its_kind():
    serializer = SafeJSONSerializer()
    ids = frozenset(range(1_000_000, 1_010_000))
    dumped = serializer.dumps(ids)
    assert len(dumped) < 30_000 and b"1000001" not in dumped  # one short string, not 10,000 numbers
    back = serializer.loads(dumped)
    assert back == ids and type(back) is frozenset and all(type(i) is int for i in back)
    assert type(serializer.loads(serializer.dumps({True}))) is set and serializer.loads(serializer.dumps({True})) == {True}
    assert all(type(b) is bool for b in serializer.loads(serializer.dumps({True, False})))


def test_the_real_cache_round_trips_and_counts():
    cache.set("safety:sample", (FlagSample(groups={(1, True, True): 4}),), 30)
    assert cache.get("safety:sample")[0].groups == {(1, True, True): 4}
    cache.set("safety:n", 1, 30)
    assert cache.incr("safety:n") == 2 and cache.get("safety:n") == 2
    cache.delete_many(["safety:sample", "safety:n"])


def test_one_redis_client_serves_every_call_and_threads_share_it():
    """Django's Redis cache makes a ``redis.Redis`` per call (0.2-0.3 ms each: most of a cached
    value's cost); ours keeps one per connection pool, which redis-py shares between threads."""
    import threading

    backend = cache._cache  # the client object behind this thread's cache
    assert backend.get_client() is backend.get_client(write=True)  # one server: one pool
    made = []
    original = redis.Redis.__init__

    def counting(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    redis.Redis.__init__ = counting
    try:
        for n in range(20):
            cache.set(f"reuse:{n}", n, 30)
            assert cache.get(f"reuse:{n}") == n
        errors = []

        def work(n):
            try:
                for _ in range(20):
                    backend.get_client().set(cache.make_and_validate_key(f"reuse:t{n}"), n, ex=30)
                    assert int(backend.get_client().get(cache.make_and_validate_key(f"reuse:t{n}"))) == n
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        redis.Redis.__init__ = original
        cache.delete_many([f"reuse:{n}" for n in range(20)] + [f"reuse:t{n}" for n in range(4)])
    assert errors == []
    assert made == []  # no new client after the first
