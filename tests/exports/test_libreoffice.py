"""The export in a real spreadsheet engine: LibreOffice imports it, and no cell is a formula.

LibreOffice converts the CSV headless to .xlsx (with "evaluate formulas" and "detect special
numbers" on: the most trusting import), and the sheet's XML is read back: no ``<f>`` element,
ids are numeric cells, hostile text is the intended text. A raw formula converted alongside proves
that this engine, with these options, would have run one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from inbox.exports.messages import MESSAGE_HEADER
from sandbox.fake.hostile import TRICKY_SUBJECTS
from tests.exports.fixtures import HOSTILE, expected_text, response_bytes, storable
from tests.factories import make_message

# Comma, double quote, UTF-8 (76), from line 1, default columns, default language, quoted fields
# not forced to text, detect special numbers, -, -, -, -, evaluate formulas: the trusting import.
# https://help.libreoffice.org/latest/en-US/text/shared/guide/csv_params.html
CSV_FILTER = "CSV:44,34,76,1,,0,false,true,false,false,false,-1,true"
NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
FORMULA_STARTERS = tuple("=+-@\t\r＝＋－＠")


def convert_to_xlsx(sources: list[Path], outdir: Path) -> list[Path]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is needed for this test (Debian: apt-get install libreoffice-calc)"
    profile = outdir / f"lo-{os.getpid()}"  # a private profile: parallel runs must not share one
    result = subprocess.run(
        [
            soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
            f"--infilter={CSV_FILTER}", "--convert-to", "xlsx", "--outdir", str(outdir),
            *map(str, sources),
        ],
        capture_output=True, timeout=240,
    )  # fmt: skip
    targets = [outdir / (s.stem + ".xlsx") for s in sources]
    assert all(t.exists() for t in targets), result.stdout + result.stderr
    return targets


def read_sheet(path: Path) -> list[list[dict]]:
    """Rows of cells: {"type": ..., "value": ..., "formula": bool} from the first sheet."""
    with zipfile.ZipFile(path) as book:
        strings = []
        if "xl/sharedStrings.xml" in book.namelist():
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            strings = ["".join(t.text or "" for t in si.iter(f"{NS}t")) for si in root.iter(f"{NS}si")]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{NS}row"):
        cells = []
        for cell in row.iter(f"{NS}c"):
            kind, v = cell.get("t", "n"), cell.find(f"{NS}v")
            value = v.text if v is not None else None
            if kind == "s" and value is not None:
                value = strings[int(value)]
            elif kind == "inlineStr":
                value = "".join(t.text or "" for t in cell.iter(f"{NS}t"))
            cells.append({"ref": cell.get("r"), "type": kind, "value": value, "formula": cell.find(f"{NS}f") is not None})
        rows.append(cells)
    return rows


def column(ref: str) -> str:
    return "".join(c for c in ref if c.isalpha())


def lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.django_db
def test_libreoffice_reads_no_formula_and_keeps_the_text(staff_client, tmp_path):
    values = [*storable(HOSTILE).values(), *TRICKY_SUBJECTS]
    for pk, value in enumerate(values, start=1):
        make_message(pk=pk, subject=value, body_text=value, coworker_full_name=value[:255], coworker_id=-pk)
    exported = tmp_path / "export.csv"
    exported.write_bytes(response_bytes(staff_client.get("/export.csv")))
    canary = tmp_path / "canary.csv"
    canary.write_bytes(b"\xef\xbb\xbfId,Subject\r\n1,=1+1\r\n")

    export_xlsx, canary_xlsx = convert_to_xlsx([exported, canary], tmp_path)

    assert any(c["formula"] for row in read_sheet(canary_xlsx) for c in row), "the engine must evaluate raw formulas"
    rows = read_sheet(export_xlsx)
    assert [c["value"] for c in rows[0]] == list(MESSAGE_HEADER)  # the BOM is not in "Id"
    assert len(rows) == len(values) + 1
    letters = {name: column(cell["ref"]) for name, cell in zip(MESSAGE_HEADER, rows[0])}
    for row in rows:
        for cell in row:
            assert not cell["formula"], cell
            if cell["type"] != "n" and cell["value"]:
                assert not cell["value"].startswith(FORMULA_STARTERS), cell
    by_id = {}
    for row in rows[1:]:
        cells = {column(c["ref"]): c for c in row}
        id_cell = cells[letters["Id"]]
        assert id_cell["type"] == "n"  # numbers stay numbers
        by_id[int(id_cell["value"])] = cells
    for pk, value in enumerate(values, start=1):
        cells = by_id[pk]
        assert cells[letters["CoworkerId"]]["type"] == "n"
        assert int(cells[letters["CoworkerId"]]["value"]) == -pk  # a negative number, not text
        for name, text in (("Subject", value), ("Body", value), ("Customer", value[:255])):
            assert lines(cells[letters[name]]["value"]) == lines(expected_text(text)), (name, value)
    texts = " ".join(by_id[pk][letters["Subject"]]["value"] for pk in by_id)
    for sample in ("Привет, мир", "日本語のメール", "مرحبا بالعالم", "👍🏽", "关于会议室预订的问题", "Zoë Ünal"):
        assert sample in texts
