"""The Ids a walk saw (``SeenIds``): ascending, de-duplicated, 8 bytes each."""

from __future__ import annotations

from inbox.sync.walk import SeenIds


class TestSeenIds:
    def test_ascending_ids_with_repeats_from_shifted_pages(self):
        seen = SeenIds()
        for pk in [1, 2, 3, 3, 4, 10, 10, 11]:
            seen.add(pk)
        seen.finish()
        assert list(seen.ids) == [1, 2, 3, 4, 10, 11]
        assert 10 in seen and 5 not in seen and 12 not in seen and 0 not in seen

    def test_unsorted_server_is_sorted_at_the_end(self):
        seen = SeenIds()
        for pk in [5, 3, 9, 3, 1, 5]:
            seen.add(pk)
        assert list(seen.finish().ids) == [1, 3, 5, 9]
        assert len(seen) == 4

    def test_union(self):
        a, b = SeenIds(), SeenIds()
        for pk in (1, 2, 5):
            a.add(pk)
        for pk in (2, 3, 6):
            b.add(pk)
        assert list(a.union(b).ids) == [1, 2, 3, 5, 6]

    def test_eight_bytes_an_id(self):
        seen = SeenIds()
        for pk in range(100_000):
            seen.add(10**9 + pk)
        assert seen.ids.itemsize == 8 and len(seen) == 100_000
