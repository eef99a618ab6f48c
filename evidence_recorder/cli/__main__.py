"""Allows ``python -m evidence_recorder.cli``, as the single-file module did."""

from evidence_recorder.cli import main

raise SystemExit(main())
