"""``python benchmarks/run.py [ARGS]`` is ``wonderland bench [ARGS]``: the workloads W1-W8
against their limits and peers. ``python benchmarks/run.py --help`` lists the options."""

import sys
from pathlib import Path

try:
    from wonderland.cli.bench import main
except ImportError:  # a clone that is not installed: use its source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from wonderland.cli.bench import main

if __name__ == "__main__":
    sys.exit(main())
