"""Text that comes from outside, shown as text: never as markup Qt guessed it to be.

A QLabel, a tooltip or a message box whose text looks like HTML renders it (Qt's
``AutoText`` guess), so a received bundle's sender, a file's name or a picture's
metadata could draw what looks like our own words: a green "fingerprint checked"
line under the real verdict, say. Labels that can show such text are made
``PlainText`` here; tooltips cannot be told, so their text is escaped when Qt would
otherwise take it for markup. Labels that deliberately use markup escape what they
insert (``html.escape``) instead.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QLabel, QWidget


def make_plain(*labels: QLabel) -> None:
    """Show each label's text exactly as it is, whatever it looks like."""
    for label in labels:
        label.setTextFormat(Qt.TextFormat.PlainText)


def plain_label(text: str = "", parent: QWidget | None = None, *,
                word_wrap: bool = True) -> QLabel:
    """A label for text from outside: plain text, wrapped."""
    label = QLabel(parent)
    make_plain(label)
    label.setWordWrap(word_wrap)
    label.setText(text)
    return label


def tooltip(text: str | None) -> str | None:
    """``text`` for a tooltip (or an item's ToolTipRole), shown as the characters it is.

    Qt renders a tooltip as markup when its first line looks like it; only then is it
    escaped and wrapped, keeping its line breaks, so ordinary text is left untouched.
    """
    if not text or not QtGuiNamespace.mightBeRichText(text):
        return text
    return f"<p style='white-space:pre-wrap'>{html.escape(text, quote=False)}</p>"
