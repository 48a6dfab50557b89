"""Re-execute notebooks and store their outputs, so nbval has references to compare against.

    .venv/bin/python tests/notebooks/refresh.py notebooks/01-the-distributed-log.ipynb [...]
    .venv/bin/python tests/notebooks/refresh.py --all

Runs each notebook top to bottom in a fresh kernel (cwd = notebooks/, the IPython profile without
colours), then drops what must not be committed: widget state (random ids) and execution
timing metadata. Run it after changing a notebook or the code it shows, and commit the result.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    os.environ["IPYTHONDIR"] = str(ROOT / "tests" / "notebooks" / "ipython")
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}, allow_errors=False)
    client.execute()
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)
    print(f"refreshed {path.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    paths = sorted((ROOT / "notebooks").glob("*.ipynb")) if argv == ["--all"] else [Path(a).resolve() for a in argv]
    if not paths:
        print(__doc__)
        return 2
    for path in paths:
        refresh(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
