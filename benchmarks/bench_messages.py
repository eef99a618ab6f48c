#!/usr/bin/env python3
"""Messages as evidence: importing and opening big chat exports and mailboxes.

App, each on a real (SQLCipher, tiny KDF) vault made fresh for every run (made and
closed outside the timed span: what is timed is the import into an open vault):
  (a) ``recorder.import_files(vault, [chat.txt])`` of a 100,000-message WhatsApp export
      (detect, parse, hash, store the file and every message encrypted), made by
      repeating a real corpus export (../shared/corpora/chat-exports, whatstk's lorem
      chat) with each message five minutes after the one before; a built-in sample
      of the same layout stands in, said so, when the corpus is absent.
      Baseline: whatstk's ``df_from_whatsapp`` of the same file, same process,
      interleaved run by run.                                  target: median <= 2x
  (b) opening that conversation to its first screen: the app's ConversationWindow on
      the item, shown (offscreen) and painted once (its model reads the first page, its
      view measures the rows on screen), against the same for a 100-message
      conversation in the same vault.                          target: median <= 2x
      (The data alone with a COUNT over every row is printed too, for information.)
  (c) ``recorder.import_files`` of a 10,000-message mbox (written here with
      ``email.message`` + ``mailbox``). Baseline: the stdlib's ``mailbox.mbox`` parse
      of it, every message read. Skipped, saying so, while the e-mail parser
      (``core.gather.messages.email_files``) is not importable.  target: median <= 2x
Memory: each of (a), (b), (c) once more in a child process of its own; its peak RSS
(VmHWM) must stay under 500 MB.

    .venv/bin/python benchmarks/bench_messages.py [--runs 3] [--messages 100000]
                                                  [--mbox 10000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from _common import PASSPHRASE, REPO, describe, median, verdict

sys.path.insert(0, str(REPO))  # measure this checkout's code

CORPUS_CHAT = REPO.parent / "shared" / "corpora" / "chat-exports" / "whatsapp" / \
    "whatstk-lorem.txt"
RSS_LIMIT_MB = 500
SCREEN = 60  # messages one screen of the conversation view shows, with room to spare
SMALL = 100

_SAMPLE = [  # the corpus file's layout, for when the corpus is absent
    "[15-01-20 02:22:56] Mary: Nostrud exercitation magna id.",
    "[15-01-20 03:33:01] +1 123 456 789: Non elit irure irure pariatur exercitation. 🇩🇰",
    "[15-01-20 04:18:42] Giuseppe: Exercitation esse lorem reprehenderit ut ex velit.",
    "[15-01-20 06:05:14] John: Aliquip dolor reprehenderit voluptate, dolore eiusmod,",
    "sed do labore et dolore magna aliqua.",
]
_HEADER = re.compile(r"^\[(\d\d)-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\]")


def make_chat(path: Path, count: int) -> str:
    """A WhatsApp export of ``count`` messages: a real one repeated, each message five
    minutes after the one before (so the dates run forward over the months)."""
    if CORPUS_CHAT.exists():
        lines = CORPUS_CHAT.read_text(encoding="utf-8").splitlines()
        origin = f"the corpus's {CORPUS_CHAT.name}, repeated"
    else:
        lines = _SAMPLE
        origin = "a built-in sample in the same layout (the corpus is absent)"
    start = datetime(2025, 1, 1)  # naive, as the export writes its times
    written = 0
    with path.open("w", encoding="utf-8") as out:
        while written < count:
            for line in lines:
                found = _HEADER.match(line)
                if found:
                    if written >= count:
                        break
                    moment = start + timedelta(minutes=5 * written, seconds=int(found[6]))
                    line = f"[{moment:%d-%m-%y %H:%M:%S}]{line[found.end():]}"
                    written += 1
                out.write(line + "\n")
    return origin


def make_mbox(path: Path, count: int) -> None:
    """A mailbox of ``count`` plain messages, written by the stdlib."""
    import mailbox
    from email.message import EmailMessage
    from email.utils import format_datetime

    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        start = datetime(2025, 1, 1, tzinfo=datetime.now().astimezone().tzinfo)
        for i in range(count):
            message = EmailMessage()
            message["From"] = f"Sender {i % 17} <sender{i % 17}@example.org>"
            message["To"] = "Head of Year 9 <head@school.example>"
            message["Subject"] = f"About the group chat, part {i}"
            message["Date"] = format_datetime(start + timedelta(minutes=7 * i))
            message["Message-ID"] = f"<{i}.bench@example.org>"
            message.set_content(f"Message {i}.\n\n" + "Lorem ipsum dolor sit amet. " * 12)
            box.add(message)
        box.flush()
    finally:
        box.unlock()
        box.close()


# --------------------------------------------------------------------------- the app

def new_vault(folder: Path):  # type: ignore[no-untyped-def]
    from evidence_recorder.core.vault.keyfile import KdfParams
    from evidence_recorder.core.vault.store import Vault

    vault, _ = Vault.create(folder, PASSPHRASE, kdf=KdfParams(1, 8, 1))
    return vault


def app_import(vault, path: Path) -> int:  # type: ignore[no-untyped-def]
    from evidence_recorder.core.gather import recorder

    outcome = recorder.import_files(vault, [path])
    if outcome.refused:
        raise SystemExit(f"the app refused {path.name}: {outcome.refused[0][1]}")
    return int(outcome.saved[0][1])


_APP: list[object] = []  # the one QApplication, kept for the whole run


def _qt_app():  # type: ignore[no-untyped-def]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")  # offscreen's size hints
    from PySide6.QtWidgets import QApplication

    if not _APP:
        _APP.append(QApplication.instance() or QApplication([]))
    return _APP[0]


def _reader(vault):  # type: ignore[no-untyped-def]
    """What the conversation window asks of the app's session, answered by the open vault
    directly (the session itself unlocks in a background job; nothing else differs)."""
    from PySide6.QtCore import QObject, Signal

    class Reader(QObject):
        locked = Signal()
        captures_changed = Signal()
        messages_flagged = Signal(int)
        is_unlocked = True

        def capture(self, item_id):  # type: ignore[no-untyped-def]
            return vault.capture(item_id)

        def messages(self, item_id, start=0, limit=None, **kw):  # type: ignore[no-untyped-def]
            return vault.messages(item_id, start=start, limit=limit, **kw)

        def message_count(self, item_id):  # type: ignore[no-untyped-def]
            return vault.message_count(item_id)

        def message_flags(self, item_id=None):  # type: ignore[no-untyped-def]
            return vault.message_flags(item_id)

    _APP.append(Reader)  # one class for the run
    return Reader()


def open_first_screen(vault, item_id: int, reader=None) -> int:  # type: ignore[no-untyped-def]
    """Opening a conversation to its first screen, as the app does: the app's own
    ``ConversationWindow`` (its model reads the first page of messages, its view measures
    the rows on screen) shown at 900x700 on an offscreen display, its first paint done;
    then closed. Returns the rows the model says the conversation has."""
    from PySide6.QtWidgets import QApplication

    from evidence_recorder.ui.conversation import ConversationWindow

    app = _qt_app()
    window = ConversationWindow(reader or _reader(vault), item_id)
    window.resize(900, 700)
    window.show()
    app.processEvents()
    window.view.viewport().repaint()
    rows = window.model.rowCount()
    if rows and window.model.pages_read == 0:
        raise SystemExit("the conversation showed no messages")
    window.close()
    window.deleteLater()
    QApplication.sendPostedEvents()
    return int(rows)


def open_counting(vault, item_id: int) -> int:  # type: ignore[no-untyped-def]
    """The data alone, counting every row with SQL (for information: what a window that
    counted the rows at each opening would pay)."""
    count = vault._read("SELECT COUNT(*) FROM message WHERE item_id = ?", (item_id,))[0][0]
    vault.messages(item_id, limit=SCREEN)
    return int(count)


def whatstk_parse(path: Path) -> int:
    from whatstk import df_from_whatsapp

    return len(df_from_whatsapp(str(path), max_size=None))


def stdlib_mbox(path: Path) -> int:
    import mailbox

    count = 0
    for message in mailbox.mbox(str(path), create=False):
        message.get_payload()
        count += 1
    return count


def email_parser_ready() -> bool:
    try:
        from evidence_recorder.core.gather.messages import email_files  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------------- children

def child(args: argparse.Namespace) -> int:
    """One workload in this process; prints its peak RSS (MB) as JSON."""
    work = Path(args.work)
    what, path = args.child, Path(args.path)
    if what == "import":
        vault = new_vault(Path(tempfile.mkdtemp(dir=work)) / "vault")
        app_import(vault, path)
        vault.close()
    elif what == "open":
        from evidence_recorder.core.vault.store import Vault

        vault = Vault.open(path, PASSPHRASE)
        open_first_screen(vault, int(args.item))
        vault.close()
    elif what == "whatstk":
        whatstk_parse(path)
    elif what == "mailbox":
        stdlib_mbox(path)
    print(json.dumps({"peak_mb": peak_rss_mb()}))
    return 0


def peak_rss_mb() -> float:
    """This process's peak RSS since it started (VmHWM: unlike ``ru_maxrss``, which
    Linux carries over from the forking parent across exec, it starts afresh)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_peak(work: Path, what: str, path: Path, item: int = 0) -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH", "")])]))
    result = subprocess.run(
        [sys.executable, __file__, "--child", what, "--path", str(path), "--work", str(work),
         "--item", str(item)], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"child {what} failed:\n{result.stderr[-2000:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["peak_mb"])


# ----------------------------------------------------------------------------- main

class Timed(float):
    """What a side returns when it times itself (its set-up, a new empty vault, is not
    part of what is measured)."""


def interleaved(runs: int, sides: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, run in sides.items():
            started = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - started
            times[name].append(float(result) if isinstance(result, Timed) else elapsed)
    return times


def timed_import(folder: Path, path: Path) -> Timed:
    """Import ``path`` into a new empty vault made first (untimed), as a person imports
    into the vault they have open; the vault is closed afterwards (untimed)."""
    vault = new_vault(folder)
    try:
        started = time.perf_counter()
        app_import(vault, path)
        return Timed(time.perf_counter() - started)
    finally:
        vault.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--mbox", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="2 runs")
    parser.add_argument("--child", choices=("import", "open", "whatstk", "mailbox"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--item", default="0", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    runs = 2 if args.quick else args.runs
    results: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="bench-messages-") as tmp:
        work = Path(tmp)
        chat = work / "WhatsApp Chat with Year 9.txt"
        origin = make_chat(chat, args.messages)
        small = work / "WhatsApp Chat with Sam.txt"
        make_chat(small, SMALL)
        print(f"(a) importing a {args.messages:,}-message WhatsApp export "
              f"({chat.stat().st_size / 1e6:.1f} MB, from {origin}); {runs} runs, interleaved")
        vaults = iter(range(10_000))

        def import_chat() -> Timed:
            return timed_import(work / f"vault-{next(vaults)}", chat)

        times = interleaved(runs, {"app": import_chat, "whatstk": lambda: whatstk_parse(chat)})
        print(describe("app: import_files into a vault", times["app"]))
        print(describe("whatstk: df_from_whatsapp", times["whatstk"]))
        results.append(verdict(f"whatsapp import {args.messages} / whatstk",
                               median(times["app"]) / median(times["whatstk"]), 2.0))

        print(f"(b) opening a conversation to its first screen (the item, {SCREEN} messages): "
              f"{args.messages:,} against {SMALL}")
        vault_dir = work / "vault-open"
        vault = new_vault(vault_dir)
        big_item, small_item = app_import(vault, chat), app_import(vault, small)
        open_first_screen(vault, big_item)  # warm: the first read pays for the cache
        times = interleaved(max(30, runs * 10), {
            "big": lambda: open_first_screen(vault, big_item),
            "small": lambda: open_first_screen(vault, small_item),
            "big counting": lambda: open_counting(vault, big_item),
            "small counting": lambda: open_counting(vault, small_item)})
        vault.close()
        ms = {name: [t * 1000 for t in values] for name, values in times.items()}
        print(describe(f"open {args.messages:,} messages", ms["big"], "ms"))
        print(describe(f"open {SMALL} messages", ms["small"], "ms"))
        print(describe(f"  data alone, COUNT(*): {args.messages:,}", ms["big counting"], "ms"))
        print(describe(f"  data alone, COUNT(*): {SMALL}", ms["small counting"], "ms"))
        print(f"  (for information: the data alone with a COUNT(*) the ratio is "
              f"{median(times['big counting']) / median(times['small counting']):.2f}x)")
        results.append(verdict(f"first screen {args.messages} / {SMALL}",
                               median(times["big"]) / median(times["small"]), 2.0))

        mbox = work / "mailbox.mbox"
        have_email = email_parser_ready()
        print(f"(c) importing a {args.mbox:,}-message mbox")
        if have_email:
            make_mbox(mbox, args.mbox)

            def import_mbox() -> Timed:
                return timed_import(work / f"vault-{next(vaults)}", mbox)

            times = interleaved(runs, {"app": import_mbox,
                                       "mailbox": lambda: stdlib_mbox(mbox)})
            print(describe("app: import_files into a vault", times["app"]))
            print(describe("stdlib: mailbox.mbox, every message", times["mailbox"]))
            results.append(verdict(f"mbox import {args.mbox} / stdlib mailbox",
                                   median(times["app"]) / median(times["mailbox"]), 2.0))
        else:
            print("  SKIP: the e-mail parser (core.gather.messages.email_files) is not "
                  "importable yet")

        print(f"memory: peak RSS of each in a child process of its own (limit {RSS_LIMIT_MB} MB)")
        peaks = {"import the WhatsApp export": child_peak(work, "import", chat),
                 "open it to its first screen": child_peak(work, "open", vault_dir, big_item),
                 "whatstk parse (for comparison)": child_peak(work, "whatstk", chat)}
        if have_email:
            peaks["import the mbox"] = child_peak(work, "import", mbox)
            peaks["stdlib mailbox parse (for comparison)"] = child_peak(work, "mailbox", mbox)
        for label, peak in peaks.items():
            print(f"  {label:<40} {peak:8.0f} MB")
        for label, peak in peaks.items():
            if "comparison" not in label:
                results.append(verdict(f"peak RSS, {label} / {RSS_LIMIT_MB} MB",
                                       peak / RSS_LIMIT_MB, 1.0))
    print(f"{sum(results)} of {len(results)} targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
