"""The shared Nexudus request budget, against the real (embedded) Redis."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis as redis_lib
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from inbox.nexudus.ratelimit import LocalRateLimiter, RedisRateLimiter

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[2]


class FakeTime:
    """A clock and a sleep that advances it: budgets over minutes, tested in milliseconds."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def key():
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def fake():
    return FakeTime()


@pytest.fixture
def make_limiter(redis_client, key, fake):
    made = []

    def make(**options) -> RedisRateLimiter:
        options.setdefault("clock", fake)
        options.setdefault("sleep", fake.sleep)
        client = options.pop("client", redis_client)
        limiter = RedisRateLimiter(client, key=options.pop("key", key), **options)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        try:
            limiter.reset()
        except redis_lib.RedisError:
            pass


def grant_times(redis_client, key) -> list[float]:
    return sorted(score / 1e6 for _, score in redis_client.zrange(f"nexudus:ratelimit:{key}", 0, -1, withscores=True))


def max_in_window(times: list[float], window: float) -> int:
    """The most grants in any half-open window of ``window`` seconds."""
    best = 0
    start = 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_per_second_budget_is_a_sliding_window(make_limiter, fake):
    limiter = make_limiter(per_second=2, per_minute=100)
    start = fake.now

    assert limiter.try_acquire() == 0
    fake.now = start + 0.5
    assert limiter.try_acquire() == 0
    fake.now = start + 0.9
    assert limiter.try_acquire() == pytest.approx(0.1, abs=1e-5)  # until the first grant is 1 s old
    fake.now = start + 1.0
    assert limiter.try_acquire() == 0
    fake.now = start + 1.2
    assert limiter.try_acquire() == pytest.approx(0.3, abs=1e-5)  # (0.2, 1.2] holds 0.5 and 1.0


def test_timestamps_keep_microsecond_precision(make_limiter, redis_client, key, fake):
    fake.now = 1_700_000_000.123457
    limiter = make_limiter(per_second=1, per_minute=100)

    assert limiter.try_acquire() == 0
    fake.now += 0.999998
    assert limiter.try_acquire() == pytest.approx(0.000002, abs=1.5e-6)

    [(_, score)] = redis_client.zrange(limiter.key, 0, -1, withscores=True)
    assert int(score) == 1_700_000_000_123_457


def test_per_minute_budget(make_limiter, fake):
    limiter = make_limiter(per_second=100, per_minute=5)
    start = fake.now

    for i in range(5):
        fake.now = start + i * 0.1
        assert limiter.try_acquire() == 0
    fake.now = start + 10
    assert limiter.try_acquire() == pytest.approx(50.0, abs=1e-5)  # the first grant leaves at 60 s
    fake.now = start + 60
    assert limiter.try_acquire() == 0
    assert limiter.try_acquire() == pytest.approx(0.1, abs=1e-5)  # the second leaves at 60.1 s


def test_the_minute_is_counted_with_a_margin(make_limiter, fake):
    """Grants 60 s apart can reach the server 59.99 s apart: the minute is counted 5 s longer."""
    limiter = make_limiter(per_second=100, per_minute=3, window_margin=5.0)
    start = fake.now

    for _ in range(3):
        assert limiter.try_acquire() == 0
    fake.now = start + 60
    assert limiter.try_acquire() == pytest.approx(5.0, abs=1e-5)
    fake.now = start + 65
    assert limiter.try_acquire() == 0


def test_arrival_jitter_within_the_margin_never_puts_more_than_the_budget_in_a_server_minute(make_limiter, fake):
    import random

    rng = random.Random(7)
    limiter = make_limiter(per_second=100, per_minute=10, window_margin=2.0)
    arrivals = []
    for _ in range(60):
        limiter.acquire()
        arrivals.append(fake.now + rng.uniform(0, 2.0))  # on its way up to 2 s
        fake.now += rng.uniform(0, 3)

    assert max_in_window(sorted(arrivals), 60.0) <= 10


def test_a_cool_down_holds_back_every_limiter_sharing_the_key(make_limiter, fake, redis_client):
    worker_a = make_limiter(per_second=100, per_minute=100)
    worker_b = make_limiter(per_second=100, per_minute=100, client=redis_lib.Redis.from_url(settings.REDIS_URL))

    worker_a.cool_down(3.0)
    assert worker_b.try_acquire() == pytest.approx(3.0, abs=1e-5)
    worker_b.cool_down(1.0)  # never shortened by a smaller one
    fake.now += 2.0
    assert worker_a.try_acquire() == pytest.approx(1.0, abs=1e-5)
    fake.now += 1.0
    assert worker_a.try_acquire() == 0 and worker_b.try_acquire() == 0
    assert 0 < redis_client.pttl(worker_a.cool_down_key) <= 4_000


def test_the_local_fallback_cools_down_too(fake):
    local = LocalRateLimiter(per_second=100, per_minute=100, clock=fake, sleep=fake.sleep)
    local.cool_down(2.5)
    start = fake.now
    local.acquire()
    assert round(fake.now - start, 6) == 2.5


def test_acquire_blocks_for_exactly_the_waits_needed(make_limiter, fake):
    limiter = make_limiter(per_second=3, per_minute=7)
    start = fake.now
    granted_at = []

    for _ in range(10):
        limiter.acquire()
        granted_at.append(round(fake.now - start, 6))

    # 3 at once, 3 a second later, 1 more (the minute's 7th), then wait for the minute.
    assert granted_at == [0, 0, 0, 1, 1, 1, 2, 60, 60, 60]
    assert max_in_window(granted_at, 1.0) == 3 and max_in_window(granted_at, 60.0) == 7


def test_two_limiters_share_one_budget(make_limiter, fake):
    worker_a = make_limiter(per_second=3, per_minute=100)
    worker_b = make_limiter(per_second=3, per_minute=100, client=redis_lib.Redis.from_url(settings.REDIS_URL))

    results = [worker_a.try_acquire(), worker_b.try_acquire(), worker_a.try_acquire(), worker_b.try_acquire()]

    assert results[:3] == [0, 0, 0] and results[3] > 0


def test_different_keys_have_different_budgets(make_limiter):
    one = make_limiter(per_second=1, per_minute=1, key=f"a-{uuid.uuid4().hex}")
    other = make_limiter(per_second=1, per_minute=1, key=f"b-{uuid.uuid4().hex}")

    assert one.try_acquire() == 0 and other.try_acquire() == 0
    assert one.try_acquire() > 0 and other.try_acquire() > 0


def test_key_is_namespaced_and_expires(make_limiter, redis_client, key):
    limiter = make_limiter(per_second=5, per_minute=5, clock=None)

    limiter.try_acquire()

    assert limiter.key == f"nexudus:ratelimit:{key}"
    assert 0 < redis_client.pttl(limiter.key) <= 61_000


def test_zero_disables_a_window(make_limiter, fake):
    limiter = make_limiter(per_second=0, per_minute=3)
    assert [limiter.try_acquire() for _ in range(3)] == [0, 0, 0]
    assert limiter.try_acquire() > 0

    unlimited = make_limiter(per_second=0, per_minute=0, key=f"u-{uuid.uuid4().hex}")
    assert all(unlimited.try_acquire() == 0 for _ in range(50))


def test_two_threads_in_real_time_stay_inside_the_budget(redis_client, key):
    per_second = 4
    limiters = [
        RedisRateLimiter(redis_lib.Redis.from_url(settings.REDIS_URL), key=key, per_second=per_second,
                         per_minute=1000)
        for _ in range(2)
    ]
    barrier = threading.Barrier(2)

    def work(limiter):
        barrier.wait()
        for _ in range(5):
            limiter.acquire()

    threads = [threading.Thread(target=work, args=(limiter,)) for limiter in limiters]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    times = grant_times(redis_client, key)
    assert len(times) == 10
    assert max_in_window(times, 1.0) <= per_second
    assert elapsed >= 2.0  # 10 grants at 4 a second: 4 now, 4 after 1 s, 2 after 2 s
    limiters[0].reset()


WORKER = textwrap.dedent(
    """
    import json, sys, time
    import redis
    from inbox.nexudus.ratelimit import RedisRateLimiter

    url, key, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
    limiter = RedisRateLimiter(redis.Redis.from_url(url), key=key, per_second=4, per_minute=1000)
    time.sleep(max(0.0, start_at - time.time()))
    waited = [limiter.acquire() for _ in range(4)]
    print(json.dumps({"waited": sum(waited), "fallback": limiter.using_fallback}))
    """
)


def test_two_processes_share_one_budget(redis_client, key):
    start_at = time.time() + 0.8  # both start together, after their imports
    processes = [
        subprocess.Popen([sys.executable, "-c", WORKER, settings.REDIS_URL, key, str(start_at)],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        outputs.append(json.loads(out))

    times = grant_times(redis_client, key)
    assert len(times) == 8
    assert max_in_window(times, 1.0) <= 4
    assert times[-1] - times[0] >= 1.0 - 1e-6  # 8 grants at 4 a second span at least a second
    assert sum(o["waited"] for o in outputs) > 0 and not any(o["fallback"] for o in outputs)
    redis_client.delete(f"nexudus:ratelimit:{key}")


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_redis_down_falls_back_to_a_local_limiter(fake, caplog):
    caplog.set_level(logging.WARNING, logger="inbox.nexudus.ratelimit")
    unreachable = redis_lib.Redis(host="127.0.0.1", port=unused_port(), socket_connect_timeout=0.2,
                                  socket_timeout=0.2, retry=Retry(NoBackoff(), 0))
    fallback = LocalRateLimiter(per_second=2, per_minute=100, clock=fake, sleep=fake.sleep)
    limiter = RedisRateLimiter(unreachable, key="down", per_second=2, per_minute=100, clock=fake,
                               sleep=fake.sleep, fallback=fallback, retry_redis_after=0)
    start = fake.now

    for _ in range(5):
        limiter.acquire()  # never raises

    assert limiter.using_fallback
    assert round(fake.now - start, 6) == 2.0  # 2 a second, enforced locally
    warnings = [r for r in caplog.records if "cannot reach Redis" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per request


def test_redis_back_after_an_outage_is_used_again(make_limiter, fake, caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="inbox.nexudus.ratelimit")
    limiter = make_limiter(per_second=100, per_minute=100, retry_redis_after=0,
                           fallback=LocalRateLimiter(per_second=100, per_minute=100, clock=fake))
    real_script = limiter._script

    def broken(*args, **kwargs):
        raise redis_lib.ConnectionError("Connection refused")

    monkeypatch.setattr(limiter, "_script", broken)
    assert limiter.try_acquire() == 0 and limiter.using_fallback
    monkeypatch.setattr(limiter, "_script", real_script)
    assert limiter.try_acquire() == 0 and not limiter.using_fallback

    assert "reaches Redis again" in caplog.text
    assert len(grant_times(limiter.redis, limiter.key.rsplit(":", 1)[1])) == 1  # only the second


def test_redis_outage_is_not_retried_on_every_request(fake):
    calls = []

    class Unreachable:
        def register_script(self, script):
            def run(*args, **kwargs):
                calls.append(1)
                raise redis_lib.TimeoutError("Timeout reading from socket")
            return run

    limiter = RedisRateLimiter(Unreachable(), key="slow", per_second=1000, per_minute=1000,
                               fallback=LocalRateLimiter(per_second=1000, per_minute=1000), retry_redis_after=60)

    for _ in range(20):
        assert limiter.try_acquire() == 0

    assert len(calls) == 1  # a hanging Redis costs one socket timeout, not one per request


def test_local_limiter_alone(fake):
    local = LocalRateLimiter(per_second=2, per_minute=3, clock=fake, sleep=fake.sleep)
    start = fake.now

    for _ in range(4):
        local.acquire()

    assert round(fake.now - start, 6) == 60.0  # 2, 1 a second later, then the minute is full
