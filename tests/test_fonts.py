"""The CJK font for documents is found in one place, or its absence is named with the fix."""

from __future__ import annotations

import pytest

from cbt.fonts import CANDIDATES, FontMissing, cjk_font


def test_the_installed_cjk_font_is_found():
    path = cjk_font({})
    assert str(path) in CANDIDATES and path.read_bytes()[:4] == b"ttcf"  # a TrueType collection


def test_a_named_font_wins_and_a_wrong_name_is_refused(tmp_path):
    font = tmp_path / "centre.ttf"
    font.write_bytes(b"\x00\x01\x00\x00")
    assert cjk_font({"CBT_CJK_FONT": str(font)}) == font
    with pytest.raises(FontMissing, match="CBT_CJK_FONT"):
        cjk_font({"CBT_CJK_FONT": str(tmp_path / "missing.ttf")})
