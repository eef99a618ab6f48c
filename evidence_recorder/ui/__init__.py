"""The desktop window: every Qt widget lives here, talking to ``core`` through the session."""
