"""``python -m wonderland``: the command line (the text's examples by default)."""

from .cli.main import main

raise SystemExit(main())
