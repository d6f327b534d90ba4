"""``python -m ptm`` runs the ``ptm`` command."""

from ptm.cli import main

raise SystemExit(main())
