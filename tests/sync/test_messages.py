"""The messages' watermark: where the next incremental run may start."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from inbox.sync.messages import _next_watermark

UTC = timezone.utc


class TestWatermark:
    start = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)

    def test_never_later_than_the_start_of_the_run(self):
        # A record updated at start+2min was seen; one on an earlier page updated at start+5s was
        # not. The next run must ask from no later than the start.
        mark = _next_watermark(local_start=self.start, server_start=None,
                               max_seen=self.start + timedelta(minutes=2), previous=None)
        assert mark == self.start

    def test_the_earlier_clock_wins(self):
        server = self.start - timedelta(seconds=40)
        assert _next_watermark(local_start=self.start, server_start=server,
                               max_seen=self.start + timedelta(minutes=1), previous=None) == server

    def test_never_later_than_the_newest_change_seen(self):
        # UpdatedOn in a frame running behind the clocks (local time marked "Z", west of UTC).
        seen = self.start - timedelta(hours=5)
        assert _next_watermark(local_start=self.start, server_start=self.start,
                               max_seen=seen, previous=seen - timedelta(hours=1)) == seen

    def test_nothing_seen_keeps_the_previous_watermark(self):
        previous = self.start - timedelta(hours=2)
        assert _next_watermark(local_start=self.start, server_start=None, max_seen=None,
                               previous=previous) == previous

    def test_does_not_go_back_when_only_the_overlap_was_reread(self):
        previous = self.start - timedelta(minutes=1)
        assert _next_watermark(local_start=self.start, server_start=None,
                               max_seen=previous - timedelta(minutes=10), previous=previous) == previous

    def test_first_run_with_nothing_at_all(self):
        assert _next_watermark(local_start=self.start, server_start=None, max_seen=None, previous=None) == self.start
