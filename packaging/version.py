"""Print gradlab's version, read from gradlab/__init__.py (its only home) without importing it.

Used by the spec and by every installer recipe: ``python packaging/version.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

INIT = Path(__file__).resolve().parent.parent / "gradlab" / "__init__.py"


def read_version(init: Path = INIT) -> str:
    match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", init.read_text("utf-8"), re.M)
    if match is None:
        raise SystemExit(f"no __version__ in {init}")
    return match.group(1)


if __name__ == "__main__":
    print(read_version())
