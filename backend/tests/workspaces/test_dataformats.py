"""Data files are recognised by content, never by name (issue 13 item 6): the pure checks."""

from __future__ import annotations

import pytest

from sandpit.config import DATA_FORMAT_NAMES, Settings
from sandpit.errors import PayloadTooLarge, UnsupportedMediaType
from sandpit.workspaces import dataformats
from sandpit.workspaces._checks import check_content
from tests.workspaces.data_samples import ELF, HTML, SAMPLES, SVG, UTF16_TEXT

ALL = frozenset(DATA_FORMAT_NAMES)


def test_the_setting_knows_every_format() -> None:
    assert tuple(dataformats.FORMATS) == DATA_FORMAT_NAMES
    assert Settings(allowed_data_formats=["all"]).allowed_data_formats == list(DATA_FORMAT_NAMES)
    assert Settings().allowed_data_formats == []
    with pytest.raises(ValueError, match="unknown data formats"):
        Settings(allowed_data_formats=["exe"])


@pytest.mark.parametrize("fmt", list(SAMPLES))
def test_each_format_is_recognised_by_content(fmt: str) -> None:
    name, data = SAMPLES[fmt]
    found = dataformats.detect(data)
    assert found is not None
    assert found.name == fmt
    check_content(data, 1 << 20, name, ALL)
    # By content, not by name: the same bytes under a neutral name are accepted too.
    check_content(data, 1 << 20, "upload.bin", ALL)
    # And only when that format is allowed.
    with pytest.raises(UnsupportedMediaType, match="not allowed here") as refused:
        check_content(data, 1 << 20, "upload.bin", ALL - {fmt})
    assert "Files may be Python or UTF-8 text, or:" in refused.value.detail


def test_utf16_text_with_bom_is_text() -> None:
    found = dataformats.detect(UTF16_TEXT)
    assert found is not None
    assert found.name == "text"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plot.png", ELF),  # a renamed executable
        ("tool", ELF),
        ("report.pdf", HTML),  # a renamed page: UTF-8 text, but named as a PDF
        ("image.png", SVG),
        ("photo.jpg", SAMPLES["png"][1]),  # a real PNG under a JPEG name
        ("data.zip", SAMPLES["pdf"][1]),
    ],
)
def test_mismatched_or_unknown_content_is_refused(name: str, data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as refused:
        check_content(data, 1 << 20, name, ALL)
    detail = refused.value.detail
    assert detail.startswith(f"'{name}'")
    assert "PNG, JPEG, GIF, PDF" in detail  # the sentence lists the allowed formats


def test_off_by_default_text_only() -> None:
    with pytest.raises(UnsupportedMediaType, match="Only text files can be saved here"):
        check_content(SAMPLES["png"][1], 1 << 20, "plot.png", frozenset())
    check_content(HTML, 1 << 20, "page.html", frozenset())  # text stays text
    with pytest.raises(PayloadTooLarge):
        check_content(SAMPLES["png"][1], 10, "plot.png", ALL)


def test_media_types_never_let_markup_run() -> None:
    assert dataformats.media_type(SVG) == "text/plain; charset=utf-8"
    assert dataformats.media_type(HTML) == "text/plain; charset=utf-8"
    assert dataformats.media_type(ELF) == "application/octet-stream"
    assert dataformats.media_type(SAMPLES["png"][1]) == "image/png"
    assert dataformats.media_type(SAMPLES["text"][1]) == "text/plain; charset=windows-1252"
