"""Notebook 00's chapter chooser lists every chapter notebook (it went stale once: 01–03 of 09)."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_first_notebook_lists_every_chapter():
    chapters = {path.name[:2] for path in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")} - {"00"}
    first = json.loads((ROOT / "notebooks" / "00-how-to-use-this-course.ipynb").read_text())
    source = "".join("".join(cell["source"]) for cell in first["cells"] if cell["cell_type"] == "code")
    listed = set(re.findall(r'"(\d\d) · ', source))
    assert listed == chapters, f"notebook 00 lists {sorted(listed)}, the chapters are {sorted(chapters)}"
