"""Where the CJK font is: the one place server-made documents (PDFs) look for it.

Debian and Ubuntu ship it as ``fonts-noto-cjk`` (``.ci/system-deps.sh`` installs it; kiosks need it
too, or Chromium draws every Chinese character as a box). ``CBT_CJK_FONT`` names another file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian, Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch, Alpine
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
)


class FontMissing(RuntimeError):
    """No CJK font: documents with Chinese text cannot be made."""


def cjk_font(environ: Mapping[str, str] | None = None) -> Path:
    """The CJK font file to embed in documents: ``CBT_CJK_FONT`` if set, else the first one installed."""
    env = os.environ if environ is None else environ
    named = env.get("CBT_CJK_FONT")
    if named:
        if not Path(named).is_file():
            raise FontMissing(f"CBT_CJK_FONT={named} 不是字体文件")
        return Path(named)
    for path in CANDIDATES:
        if Path(path).is_file():
            return Path(path)
    raise FontMissing("没有中文字体：请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）或设置 CBT_CJK_FONT")
