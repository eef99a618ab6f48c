"""Allows ``python -m evidence_recorder``."""

from evidence_recorder.cli import main

raise SystemExit(main())
