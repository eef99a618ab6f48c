"""``messages`` and ``flag`` on the command line, and what ``list``/``show`` say of an
e-mail or a chat export (items made by hand here; the parsers' own tests import real
files)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import PASSPHRASE
from test_messages_store import add, make_export

from evidence_recorder.core.conversation import Message
from evidence_recorder.core.vault.store import Vault


def stored(folder: Path, export_hook=None) -> int:  # type: ignore[no-untyped-def]
    export = make_export()
    if export_hook is not None:
        export_hook(export)
        export.finish()
    with Vault.open(folder, PASSPHRASE) as vault:
        return add(vault, export)


def test_messages_prints_and_filters(cli, closed_vault: Path) -> None:  # type: ignore[no-untyped-def]
    item = stored(closed_vault)
    text = cli("messages", str(item))
    assert text.returncode == 0, text.stderr
    assert "taken as Europe/London" in text.stdout and "message number 7" in text.stdout
    assert "(could not read this line)" in text.stdout
    assert "[attachment: IMG-1.jpg (IMG-1.jpg)]" in text.stdout
    rows = json.loads(cli("messages", str(item), "--json").stdout)
    assert [r["index"] for r in rows] == list(range(11))
    assert {"index", "sender", "sent_at", "text", "attachments"} <= set(rows[0])
    assert rows[3]["attachments"][0]["artefact"] == "IMG-1.jpg"
    found = json.loads(cli("messages", str(item), "--json", "--search", "NUMBER 7").stdout)
    assert [r["index"] for r in found] == [7]
    dated = json.loads(cli("messages", str(item), "--json", "--from", "2026-11-05T00:00Z",
                           "--to", "2026-11-06T23:59Z").stdout)
    assert [r["sent_at"][:10] for r in dated] == ["2026-11-05", "2026-11-06"]
    bad = cli("messages", str(item), "--from", "yesterday")
    assert bad.returncode == 4 and "is not a date" in bad.stderr


def test_flag_and_unflag(cli, closed_vault: Path) -> None:  # type: ignore[no-untyped-def]
    item = stored(closed_vault)
    done = cli("flag", str(item), "4", "2", "--category", "threat", "--note", "said he'd wait")
    assert done.returncode == 0 and "Flagged messages 2, 4" in done.stdout
    rows = json.loads(cli("messages", str(item), "--json").stdout)
    assert rows[2]["flag"]["category"] == "threat" and rows[2]["flag"]["note"] == "said he'd wait"
    assert rows[3]["flag"] is None
    assert "[flagged]" in cli("messages", str(item)).stdout
    assert "2 flagged" in cli("show", str(item)).stdout
    off = cli("flag", str(item), "2", "--remove")
    assert off.returncode == 0 and "Took the flag off 1 message" in off.stdout
    missing = cli("flag", str(item), "99")
    assert missing.returncode == 4 and "no message numbered 99" in missing.stderr
    assert cli("flag", str(item), "-1").returncode == 2


def test_list_and_show_say_what_the_export_is(cli, closed_vault: Path) -> None:  # type: ignore[no-untyped-def]
    item = stored(closed_vault)
    listed = json.loads(cli("list", "--json").stdout)
    assert listed[0]["kind"] == "chat" and listed[0]["title"] == "Chat with Alex"
    assert listed[0]["message_count"] == 10
    full = json.loads(cli("show", str(item), "--json").stdout)
    assert full["message_count"] == 10 and full["messages"]["parser"] == "whatsapp/1"
    shown = cli("show", str(item)).stdout
    assert "whatsapp-android (read by whatsapp/1)" in shown
    assert "1 lines that could not be read" in shown or "1 line" in shown


def test_a_picture_has_no_messages(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from test_cli import make_png

    make_png(tmp_path / "shot.png")
    assert cli("import", str(tmp_path / "shot.png")).returncode == 0
    refused = cli("messages", "1")
    assert refused.returncode == 4 and "has no messages" in refused.stderr


def test_hostile_text_cannot_drive_the_terminal(cli, closed_vault: Path) -> None:  # type: ignore[no-untyped-def]
    def hostile(export) -> None:  # type: ignore[no-untyped-def]
        export.messages[0] = Message(0, "Eve\x1b]0;owned\x07", "\x1b[2Jcleared\u202eevil")

    item = stored(closed_vault, hostile)
    out = cli("messages", str(item)).stdout
    assert "\x1b" not in out and "\u202e" not in out and "cleared" in out


def test_a_file_that_is_nothing_we_read_is_refused_in_one_sentence(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "data.json").write_text('{"hello": "world"}')
    refused = cli("import", str(tmp_path / "data.json"))
    assert refused.returncode == 4
    assert "“data.json” is not a picture, e-mail or chat export Evidence Recorder can read" \
        in refused.stderr


def write_mailbox(path: Path) -> None:
    parts = []
    for n in range(3):
        parts.append(f"From sender{n}@example.org Mon Dec  7 10:0{n}:00 2026\n"
                     f"From: Sender {n} <sender{n}@example.org>\nTo: me@example.org\n"
                     f"Subject: Number {n}\nDate: Mon, 07 Dec 2026 10:0{n}:00 +0000\n"
                     f"Message-ID: <{n}@example.org>\n\nBody {n}.\n\n")
    path.write_text("".join(parts))


def test_a_mailbox_is_listed_and_chosen_emails_taken_one_item_each(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    box = tmp_path / "inbox.mbox"
    write_mailbox(box)
    listed = cli("mailbox", str(box))
    assert listed.returncode == 0 and "Number 2" in listed.stdout and "Sender 0" in listed.stdout
    taken = cli("import", str(box), "--pick", "0,2")
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.count("taken as a mailbox (mbox), 1 message") == 2
    items = json.loads(cli("list", "--json").stdout)
    assert [(i["kind"], i["title"], i["message_count"]) for i in items] == [
        ("email", "Number 0", 1), ("email", "Number 2", 1)]
    texts = json.loads(cli("messages", str(items[1]["id"]), "--json").stdout)
    assert texts[0]["text"].strip() == "Body 2." and texts[0]["extra"]["mailbox_index"] == 2
    missing = cli("import", str(box), "--pick", "7")
    assert missing.returncode == 4 and "has no e-mail numbered 7" in missing.stderr
    whole = cli("import", str(box))
    assert "taken as a mailbox (mbox), 3 messages" in whole.stdout
    not_a_box = tmp_path / "a.txt"
    not_a_box.write_text("hello")
    assert cli("mailbox", str(not_a_box)).returncode == 4
    assert "not a mailbox" in cli("import", str(not_a_box), "--pick", "1").stderr
