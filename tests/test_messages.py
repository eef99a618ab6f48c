"""The one wrapper for message boxes and text prompts (ui/messages.py), answered in advance."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit

from evidence_recorder.ui import messages

UI = Path(__file__).resolve().parent.parent / "evidence_recorder" / "ui"

pytestmark = pytest.mark.usefixtures("qapp")


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    messages._next_answers.clear()
    messages.shown.clear()
    yield
    messages._next_answers.clear()


def test_a_text_prompt_answered_in_advance_shows_nothing() -> None:
    messages.set_next_text("taken by mistake")
    messages.set_next_text("a few\nlines", accepted=False)
    assert messages.get_text(None, "Delete capture", "Why?") == ("taken by mistake", True)
    assert messages.get_multiline_text(None, "Describe incident", "About?") == (
        "a few\nlines", False)
    assert messages.shown == [("Delete capture", "Why?"), ("Describe incident", "About?")]


def test_a_prompt_leaves_a_button_answer_for_the_box_it_was_meant_for(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(messages.QInputDialog, "exec", lambda dialog: 0)  # the user cancels
    messages.set_next_answer(messages.Button.Yes)
    assert messages.get_text(None, "Rename incident", "New title:") == ("", False)
    assert messages.ask(None, "Discard?", "Discard it?")


def test_a_text_answer_given_to_a_message_box_is_a_test_mistake() -> None:
    messages.set_next_text("meant for a prompt")
    with pytest.raises(TypeError, match="text prompt"):
        messages.info(None, "Saved", "Saved in your vault.")


def test_the_multi_line_prompt_edits_several_lines_and_shows_its_prompt_plain() -> None:
    dialog = messages.make_text_dialog(None, "Describe incident", "<b>About?</b>",
                                       text="first\nsecond", multiline=True)
    try:
        (edit,) = dialog.findChildren(QPlainTextEdit)
        assert edit.toPlainText() == "first\nsecond"
        labels = [label for label in dialog.findChildren(QLabel) if label.text()]
        assert labels and all(label.textFormat() == Qt.TextFormat.PlainText
                              for label in labels)
    finally:
        dialog.deleteLater()


def _mentions(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes: list[Any] = list(ast.walk(tree))
    return any(isinstance(node, ast.Name) and node.id == name for node in nodes) or any(
        isinstance(node, ast.alias) and node.name == name for node in nodes)


def test_only_the_wrapper_uses_qinputdialog() -> None:
    """Every text prompt goes through messages.py, so tests can answer it in advance."""
    users = sorted(path.name for path in UI.glob("*.py") if _mentions(path, "QInputDialog"))
    assert users == ["messages.py"]
