"""The CSV cells and the hand-written writer (inbox/exports/cells.py), against the csv module."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inbox.exports.cells import (
    csv_field,
    csv_line,
    export_timezone,
    number_cell,
    stream_csv,
    text_cell,
    text_field,
    time_cell,
)
from inbox.exports.messages import message_line, message_row
from tests.exports.fixtures import read_csv


# --- Cells ----------------------------------------------------------------------------------------


class TestTextCell:
    @pytest.mark.parametrize("starter", ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"])
    def test_formula_starters_get_an_apostrophe(self, starter):
        assert text_cell(f"{starter}1+1") == f"'{starter}1+1"

    @pytest.mark.parametrize("value", ["hello", "1+1", " =1", "'quoted", "", "naïve", "日本", "a=b"])
    def test_other_text_is_unchanged(self, value):
        assert text_cell(value) == value

    def test_none_is_empty(self):
        assert text_cell(None) == ""

    def test_a_starter_behind_control_characters_counts(self):
        assert text_cell("\x00\x07=1+1") == "'\x00\x07=1+1"
        assert text_cell("\x00\x00") == "\x00\x00"  # no starter: nothing to defuse

    def test_the_writer_drops_control_characters_but_not_line_breaks_or_tabs(self):
        cells = [text_cell("\x00=1+1"), text_cell("a\x00b\x07c\x1bd\x7fe\x0bf\x0cg"), "a\tb\nc\r\nd"]
        data = b"".join(stream_csv(("A", "B", "C"), [cells]))
        assert read_csv(data)[1] == ["'=1+1", "abcdefg", "a\tb\nc\r\nd"]


class TestNumberAndTimeCells:
    def test_numbers_stay_numbers_even_negative(self):
        assert number_cell(-5) == -5
        assert number_cell(42) == 42
        assert number_cell(None) == ""

    def test_times_are_iso_8601_with_offset(self):
        when = dt.datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=dt.UTC)
        assert time_cell(when, dt.UTC) == "2026-11-21T09:30:15+00:00"
        assert time_cell(None, dt.UTC) == ""

    def test_times_in_the_help_desk_zone(self, settings):
        settings.HELPDESK_TIME_ZONE = "Europe/Madrid"
        when = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)
        assert time_cell(when, export_timezone()) == "2026-07-01T11:00:00+02:00"


# --- The writer -----------------------------------------------------------------------------------


class TestStreamCsv:
    ROWS = [(1, "a,b", 'say "hi"', "x\r\ny"), (2, "", "plain", "multi\nline")]

    def test_bom_crlf_and_rfc4180_quoting(self):
        data = b"".join(stream_csv(("Id", "A", "B", "C"), self.ROWS))
        assert data.startswith(b"\xef\xbb\xbfId,A,B,C\r\n")
        assert data == (
            b'\xef\xbb\xbfId,A,B,C\r\n1,"a,b","say ""hi""","x\r\ny"\r\n2,,plain,"multi\nline"\r\n'
        )
        assert list(csv.reader(io.StringIO(data[3:].decode(), newline=""))) == [
            ["Id", "A", "B", "C"],
            ["1", "a,b", 'say "hi"', "x\r\ny"],
            ["2", "", "plain", "multi\nline"],
        ]

    def test_small_chunks_give_the_same_bytes_and_report_every_row(self):
        rows = [(i, f"row {i} " * (i % 5)) for i in range(1000)]
        whole = b"".join(stream_csv(("Id", "T"), rows))
        seen = []
        chunks = list(stream_csv(("Id", "T"), rows, chunk_bytes=100, progress=seen.append))
        assert len(chunks) > 50
        assert all(len(c) < 200 for c in chunks)
        assert b"".join(chunks) == whole
        assert whole.count(b"\xef\xbb\xbf") == 1
        assert sum(seen) == 1000

    def test_an_empty_export_is_the_header(self):
        assert b"".join(stream_csv(("Id",), [])) == b"\xef\xbb\xbfId\r\n"

    def test_a_lone_surrogate_does_not_abort_the_download(self):
        data = b"".join(stream_csv(("T",), [("a\ud800b",)]))
        assert data.endswith(b"a?b\r\n")


class TestSameAsTheCsvModule:
    """The hand-written writer against the standard library's, on any input."""

    cells = st.one_of(st.none(), st.integers(), st.text(), st.sampled_from(['"', ",", "\r", "\n", "\r\n", "", " "]))

    @staticmethod
    def stdlib_line(cells) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow(cells)
        return buffer.getvalue()

    @hypothesis_settings(max_examples=400, deadline=None)
    @given(st.lists(cells, min_size=1, max_size=8))
    def test_csv_line(self, cells):
        assert csv_line(cells) == self.stdlib_line(cells)

    @hypothesis_settings(max_examples=400, deadline=None)
    @given(st.one_of(st.none(), st.text()))
    def test_text_field(self, value):
        assert text_field(value) == csv_field(text_cell(value))

    @hypothesis_settings(max_examples=300, deadline=None)
    @given(
        st.tuples(
            st.integers(min_value=1, max_value=2**63 - 1),
            st.sampled_from(["2026-11-21T09:30:00+00:00", "2026-01-01T00:00:00+01:00"]),
            st.sampled_from(["2026-11-21T09:30:00+00:00", None]),
            st.sampled_from(["incoming", "outgoing"]),
            st.sampled_from(["yes", "no"]),
            st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)),
            *[st.one_of(st.none(), st.text())] * 4,
            st.one_of(st.none(), st.integers(min_value=1, max_value=2**63 - 1)),
            *[st.one_of(st.none(), st.text())] * 4,
        )
    )
    def test_message_line(self, values):
        assert message_line(values) == self.stdlib_line(message_row(values))
