"""The headless heart of Evidence Recorder: vault, evidence model, capture, import.

Nothing in this package imports Qt, so the CLI, scripts and tests run it without a
display (a test enforces this).
"""
