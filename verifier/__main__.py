"""``python -m verifier``: the same command as ``carbon-verify``."""

from verifier.cli import main

raise SystemExit(main())
