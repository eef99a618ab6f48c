"""Evidence Recorder: keep timestamped, tamper-evident evidence of online abuse."""

__version__ = "0.1.0"
APP_NAME = "Evidence Recorder"
