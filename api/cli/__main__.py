"""``python -m api.cli ARGS`` is ``carbonledger ARGS``, from the working tree as well as
installed."""

from api.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
