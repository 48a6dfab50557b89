"""Settings every test run needs, notebooks included (they live outside tests/)."""

import os
from pathlib import Path

# Kernels started by nbval inherit this: tracebacks without colour codes (see the profile).
os.environ.setdefault("IPYTHONDIR", str(Path(__file__).parent / "tests" / "notebooks" / "ipython"))
