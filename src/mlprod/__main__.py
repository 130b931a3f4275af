"""``python -m mlprod``: the same as the ``mlprod`` command."""

from mlprod.cli import main

raise SystemExit(main())
