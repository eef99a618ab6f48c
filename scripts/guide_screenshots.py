"""Makes the pictures in docs/images/ by driving the real app on a virtual screen.

Run through ``scripts/guide-screenshots``, which starts Xvfb (1280x800) and sets
QT_QPA_PLATFORM=xcb. Every window is the app's own (the start window, the main
window, the describe, editor, export and audit dialogs, the bundle viewer), shown
with a throwaway vault in a temporary folder that is deleted at the end. The
evidence in it is invented: sample posts drawn here with Pillow, on the reserved
``.example`` domain, by made-up accounts. No real person, school or site appears.

Each window is grabbed with ``QWidget.grab()`` and saved as an optimised PNG (a
256-colour palette, at most 1280x800).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:  # the app itself is imported only once the folders are isolated
    from PySide6.QtWidgets import QWidget

    from evidence_recorder.ui.capture_dialogs import DescribeDialog
    from evidence_recorder.ui.describe import DescribePanel

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "images"
PASSPHRASE = "copper kettle meadow 19"  # noqa: S105 - the throwaway vault's, deleted after
MAX_SIZE = (1280, 800)
# Where things were drawn on the sample desktop, for the redaction and the highlight.
RECTS: dict[str, list[int]] = {}


def _isolate(root: Path) -> None:
    """Point home, temp and the XDG folders into ``root`` before Qt reads any of them."""
    for name in ("home", "tmp", "data", "config", "cache", "state", "runtime"):
        (root / name).mkdir(mode=0o700)
    os.environ.update({
        "HOME": str(root / "home"), "TMPDIR": str(root / "tmp"),
        "XDG_DATA_HOME": str(root / "data"), "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_CACHE_HOME": str(root / "cache"), "XDG_STATE_HOME": str(root / "state"),
        "XDG_RUNTIME_DIR": str(root / "runtime"), "TZ": "Europe/London",
        "LANG": "en_GB.UTF-8", "LANGUAGE": "en_GB",
    })
    for var in ("EVIDENCE_RECORDER_VAULT", "EVIDENCE_RECORDER_PASSPHRASE"):
        os.environ.pop(var, None)
    tempfile.tempdir = None
    time.tzset()


# ============================================================================ sample posts

def _fonts() -> dict[str, ImageFont.FreeTypeFont]:
    fonts = REPO / "resources" / "fonts"
    regular, bold = fonts / "DejaVuSans.ttf", fonts / "DejaVuSans-Bold.ttf"
    return {
        "small": ImageFont.truetype(str(regular), 13),
        "body": ImageFont.truetype(str(regular), 17),
        "bold": ImageFont.truetype(str(bold), 17),
        "title": ImageFont.truetype(str(bold), 24),
        "tiny": ImageFont.truetype(str(regular), 11),
    }


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont,
          width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _post(draw: ImageDraw.ImageDraw, fonts: dict[str, ImageFont.FreeTypeFont], x: int, y: int,
          width: int, name: str, handle: str, when: str, text: str,
          colour: tuple[int, int, int]) -> int:
    """Draws one invented post; returns the y just below it."""
    lines = _wrap(draw, text, fonts["body"], width - 90)
    height = 64 + 24 * len(lines) + 36
    draw.rounded_rectangle((x, y, x + width, y + height), 10, fill="white",
                           outline=(214, 218, 224))
    draw.ellipse((x + 16, y + 16, x + 60, y + 60), fill=colour)
    draw.text((x + 30, y + 26), name[0], font=fonts["bold"], fill="white")
    draw.text((x + 74, y + 16), name, font=fonts["bold"], fill=(20, 24, 30))
    draw.text((x + 74, y + 40), f"{handle} · {when}", font=fonts["small"],
              fill=(100, 108, 120))
    for n, line in enumerate(lines):
        draw.text((x + 74, y + 68 + 24 * n), line, font=fonts["body"], fill=(20, 24, 30))
    foot = y + 68 + 24 * len(lines) + 8
    draw.text((x + 74, foot), "Reply    Share    Report", font=fonts["small"],
              fill=(120, 128, 140))
    return y + height + 14


def _browser(address: str, tab: str) -> tuple[Image.Image, ImageDraw.ImageDraw,
                                              dict[str, ImageFont.FreeTypeFont]]:
    image = Image.new("RGB", MAX_SIZE, (58, 76, 96))
    draw = ImageDraw.Draw(image)
    fonts = _fonts()
    draw.rectangle((30, 24, 1250, 776), fill=(238, 240, 243))
    draw.rectangle((30, 24, 1250, 60), fill=(214, 218, 224))
    draw.rounded_rectangle((44, 30, 330, 60), 6, fill=(238, 240, 243))
    draw.text((58, 37), tab, font=fonts["small"], fill=(30, 30, 30))
    draw.rectangle((30, 60, 1250, 100), fill=(246, 247, 249))
    draw.rounded_rectangle((110, 67, 1200, 93), 12, fill="white", outline=(200, 204, 210))
    draw.text((128, 72), address, font=fonts["small"], fill=(40, 40, 40))
    draw.text((50, 70), "◀  ▶  ⟳", font=fonts["small"], fill=(90, 90, 90))
    draw.rectangle((30, 100, 1250, 150), fill=(34, 94, 168))
    draw.text((60, 111), "chatter", font=fonts["title"], fill="white")
    draw.text((930, 118), "An invented site for this guide", font=fonts["small"],
              fill=(220, 230, 245))
    draw.text((46, 758), "SAMPLE: invented posts by made-up accounts, drawn for the "
              "Evidence Recorder user guide.", font=fonts["tiny"], fill=(110, 110, 110))
    return image, draw, fonts


def sample_desktop_post() -> Image.Image:
    """A post about a teacher, with replies; one reply names a pupil (to redact)."""
    image, draw, fonts = _browser("https://chatter.example/sample_account_01/post/48213",
                                  "Chatter — Sample Account")
    y = _post(draw, fonts, 290, 175, 700, "Sample Account", "@sample_account_01", "2h",
              "Ms Example at Sample Primary can't control her class. Parents should keep "
              "complaining until she leaves. Share this so everyone knows what she is "
              "really like.", (180, 70, 70))
    RECTS["highlight"] = [358, 238, 620, y - 14 - 238 - 40]
    before = draw.textlength("My son ", font=fonts["body"])
    name = draw.textlength("Jamie Pupil", font=fonts["body"])
    RECTS["redact"] = [int(330 + 74 + before) - 3, y + 66, int(name) + 6, 26]
    y = _post(draw, fonts, 330, y, 660, "Another Example", "@another_example", "1h",
              "My son Jamie Pupil in Year 5 says the same. Let's all post about her.",
              (70, 120, 180))
    _post(draw, fonts, 330, y, 660, "Sample Account", "@sample_account_01", "45m",
          "Good. Everyone tag the school page tonight.", (180, 70, 70))
    return image


def sample_desktop_thread() -> Image.Image:
    """A second, later post by the same made-up account: a veiled warning."""
    image, draw, fonts = _browser("https://chatter.example/sample_account_01/post/48377",
                                  "Chatter — Sample Account")
    _post(draw, fonts, 290, 200, 700, "Sample Account", "@sample_account_01", "20m",
          "We'll all be waiting at the school gate on Monday, Ms Example. You have been "
          "warned.", (180, 70, 70))
    return image


def sample_phone_screenshot() -> bytes:
    """A phone screenshot of invented text messages, as a PNG file's bytes."""
    fonts = _fonts()
    image = Image.new("RGB", (390, 780), (245, 245, 247))
    draw = ImageDraw.Draw(image)
    draw.text((20, 10), "21:07", font=fonts["bold"], fill=(0, 0, 0))
    draw.text((300, 12), "4G  72%", font=fonts["small"], fill=(0, 0, 0))
    draw.rectangle((0, 44, 390, 110), fill=(250, 250, 252))
    draw.ellipse((16, 54, 62, 100), fill=(150, 150, 160))
    draw.text((76, 58), "+44 7700 900123", font=fonts["bold"], fill=(0, 0, 0))
    draw.text((76, 82), "Unknown number", font=fonts["small"], fill=(110, 110, 110))
    y = 130
    for text, when in (("Is this Ms Example from Sample Primary?", "21:02"),
                       ("You should quit before everyone finds out what you're really "
                        "like.", "21:04"),
                       ("Everyone at the school gate knows.", "21:05")):
        lines = _wrap(draw, text, fonts["body"], 260)
        height = 24 * len(lines) + 34
        draw.rounded_rectangle((16, y, 300, y + height), 16, fill=(229, 229, 234))
        for n, line in enumerate(lines):
            draw.text((30, y + 10 + 24 * n), line, font=fonts["body"], fill=(0, 0, 0))
        draw.text((240, y + height - 20), when, font=fonts["tiny"], fill=(110, 110, 110))
        y += height + 14
    draw.text((16, 750), "SAMPLE: invented for the user guide", font=fonts["tiny"],
              fill=(140, 140, 140))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# ============================================================================ driving the app

class Shots:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.saved: list[Path] = []

    def grab(self, widget: QWidget, name: str) -> None:
        settle()
        pixmap = widget.grab()
        buffer = io.BytesIO()
        from PySide6.QtCore import QBuffer, QIODevice

        qbuffer = QBuffer()
        qbuffer.open(QIODevice.OpenModeFlag.WriteOnly)
        pixmap.save(qbuffer, "PNG")
        buffer.write(qbuffer.data().data())
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB")
        image.thumbnail(MAX_SIZE)
        small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                               dither=Image.Dither.NONE)
        target = self.out / f"{name}.png"
        small.save(target, "PNG", optimize=True)
        self.saved.append(target)
        print(f"  {_shown(target)}  {image.width}x{image.height}  "
              f"{target.stat().st_size // 1024} KiB", flush=True)


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def settle(ms: int = 150) -> None:
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"guide-screenshots: gave up waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.01)


def _set_field(panel: DescribePanel, name: str, value: str) -> None:
    from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit, QTextEdit

    widget = panel.inputs[name]
    if isinstance(widget, QComboBox):
        if widget.isEditable():
            widget.setEditText(value)
        else:
            widget.setCurrentIndex(max(0, widget.findData(value)))
    elif isinstance(widget, QLineEdit):
        widget.setText(value)
    elif isinstance(widget, QPlainTextEdit | QTextEdit):
        widget.setPlainText(value)


def run(out: Path, work: Path) -> int:
    from PySide6.QtWidgets import QApplication

    from evidence_recorder import APP_NAME
    from evidence_recorder.core import settings as options
    from evidence_recorder.core.gather import capture
    from evidence_recorder.core.settings import Settings
    from evidence_recorder.core.vault.keyfile import KdfParams
    from evidence_recorder.ui import main_window as main_window_module
    from evidence_recorder.ui import messages
    from evidence_recorder.ui.app import AppController
    from evidence_recorder.ui.audit_view import AuditDialog
    from evidence_recorder.ui.bundle_viewer import open_bundle_window
    from evidence_recorder.ui.export_dialog import ExportDialog
    from evidence_recorder.ui.guide import ChildProtectionDialog
    from evidence_recorder.ui.session import VaultSession

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("EvidenceRecorder")
    shots = Shots(out)

    settings = Settings(work / "settings.json")
    settings.set(options.HIDE_WHILE_CAPTURING, False)  # nothing to hide on Xvfb
    settings.set(options.YOUR_NAME, "A. Example")
    settings.set(options.YOUR_ROLE, "Class teacher, Year 5")
    # Tiny key-derivation costs: this vault is thrown away; the product calibrates.
    session = VaultSession(work / "vault", KdfParams(time_cost=1, memory_cost=8, parallelism=1))
    ctl = AppController(session, settings, show_guide=False)
    ctl.run()
    start = ctl.start
    start.resize(640, 560)

    # --- creating the vault and its recovery key
    page = start.create_page
    page.passphrase.setText(PASSPHRASE)
    page.confirm.setText(PASSPHRASE)
    shots.grab(start, "start-create")
    page.create_button.click()
    wait_until(lambda: start.stack.currentWidget() is start.key_page, "the recovery key")
    shots.grab(start, "recovery-key")
    start.key_page.confirm.setChecked(True)
    start.key_page.continue_button.click()
    main = ctl.main
    wait_until(main.isVisible, "the main window")
    main.resize(1280, 760)

    # --- the first incident, and a whole-screen capture described at once
    first = session.incidents()[0]
    session.edit_incident(first.id, title="Posts about me on Chatter")
    main.reload_incidents()
    desktops = iter([sample_desktop_post(), sample_desktop_thread()])
    main.capturer._grabber_factory = lambda: capture.FakeGrabber(next(desktops))

    described: list[int] = []

    def describe(dialog: DescribeDialog) -> int:
        panel = dialog.panel
        if len(described) >= 2:  # the import's describe step: its details are set below
            return 0
        if not described:
            for name, value in (
                    ("site", "Chatter"),
                    ("url", "https://chatter.example/sample_account_01/post/48213"),
                    ("author", "Sample Account"), ("handle", "@sample_account_01"),
                    ("profile_url", "https://chatter.example/sample_account_01"),
                    ("posted_at", "2h"), ("category", "harassment"),
                    ("description", "A post saying I cannot control my class and asking "
                                    "parents to complain until I leave. A parent replied "
                                    "naming a pupil."),
                    ("context", "Third post this week from the same account.")):
                _set_field(panel, name, value)
            dialog.show()
            dialog.resize(1180, 700)
            shots.grab(dialog, "describe-dialog")
        else:
            for name, value in (
                    ("site", "Chatter"),
                    ("url", "https://chatter.example/sample_account_01/post/48377"),
                    ("author", "Sample Account"), ("handle", "@sample_account_01"),
                    ("posted_at", "20m"), ("category", "threat"),
                    ("description", "Says people will be waiting for me at the school gate "
                                    "on Monday.")):
                _set_field(panel, name, value)
        described.append(1)
        dialog.save()
        return 1

    main_window_module.DescribeDialog.exec = describe  # type: ignore[method-assign,assignment]
    main.capture("screen")
    wait_until(lambda: len(described) == 1, "the first capture")
    main.capturer._region_selector = lambda _desktop: (280, 188, 720, 172)
    main.capture("region")
    wait_until(lambda: len(described) == 2, "the region capture")

    # --- a phone screenshot, imported into a second incident
    second = session.new_incident("Text messages from an unknown number")
    main.reload_incidents()
    phone = work / "tmp" / "IMG_0412.PNG"
    phone.write_bytes(sample_phone_screenshot())
    for row in range(main.incident_model.rowCount()):
        if main.incident_model.incident_at(row).id == second.id:
            main.incident_view.setCurrentIndex(main.incident_model.index(row, 0))
    main.import_paths([phone])
    wait_until(lambda: len(session.captures(second.id)) == 1, "the import")
    imported = session.captures(second.id)[0].id
    session.edit_capture(imported, {"site": "Text message", "author": "+44 7700 900123",
                                    "posted_at": "21:02 to 21:05",
                                    "description": "Three messages from a number I do "
                                                   "not know."})

    # --- a redaction on a copy of the first capture (a pupil's name)
    first_capture = session.captures(first.id)[0].id
    session.set_annotations(first_capture, {"version": 1, "items": [
        {"type": "highlight", "rect": RECTS["highlight"], "color": "#ffd60a"},
        {"type": "redact", "rect": RECTS["redact"]},
    ]})
    editor = main_window_module.EditorDialog(session, first_capture, main)
    editor.show()
    editor.resize(1180, 760)
    editor.editor._canvas.fit()
    shots.grab(editor, "editor-redaction")
    editor.editor.mark_saved()
    editor.reject()

    # --- the main window, showing the first incident
    main.incident_view.setCurrentIndex(main.incident_model.index(0, 0))
    settle()
    main.select_capture(first_capture)
    shots.grab(main, "main-window")
    main.tabs.setCurrentIndex(1)
    shots.grab(main, "main-timeline")
    main.tabs.setCurrentIndex(0)

    audit = AuditDialog(session.audit_entries(), main)
    audit.show()
    audit.resize(1000, 520)
    shots.grab(audit, "audit-log")
    audit.close()

    stop = ChildProtectionDialog(main)
    stop.show()
    shots.grab(stop, "child-protection")
    stop.close()

    # --- exporting a sealed bundle for the headteacher
    export = ExportDialog(session, settings, [first_capture], first.id, main)
    export.show()
    settle()
    shots.grab(export, "export-dialog")
    bundle = work / "evidence-bundle.zip"
    messages.set_next_answer(messages.Button.Ok)  # "Report exported": its fingerprint
    export.export_to(bundle, export.chosen_options())
    wait_until(lambda: export.written is not None, "the export")
    export.close()

    # --- locking: the unlock page
    ctl.lock()
    start.unlock_page.passphrase.setText(PASSPHRASE)
    shots.grab(start, "start-unlock")

    # --- the headteacher's side: the bundle viewer, intact and then altered
    viewer = open_bundle_window(bundle)
    assert viewer is not None
    viewer.resize(1280, 780)
    shown = viewer
    wait_until(lambda: shown.verdict() == "intact", "the bundle check")
    viewer.timeline.selectRow(0)
    settle()
    viewer.redacted_view.reveal()
    viewer.original_view.reveal()
    shots.grab(viewer, "bundle-intact")
    viewer.close()

    altered = work / "altered-bundle.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(altered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("data/captures/1/metadata.json"):
                data = data.replace(b"Sample Account", b"Someone Else!!")
            target.writestr(info, data)
    viewer = open_bundle_window(altered)
    assert viewer is not None
    viewer.resize(1280, 780)
    shown = viewer
    wait_until(lambda: shown.verdict() == "altered", "the altered bundle's check")
    shots.grab(viewer, "bundle-altered")
    viewer.close()

    start.close()
    main.close()
    session.lock()
    settle()
    app.processEvents()
    print(f"{len(shots.saved)} pictures in {_shown(out)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true",
                        help="keep the throwaway folder (its path is printed)")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the PNGs")
    args = parser.parse_args()
    if os.environ.get("QT_QPA_PLATFORM") != "xcb" or not os.environ.get("DISPLAY"):
        print("Run this through scripts/guide-screenshots (it starts Xvfb).", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="er-guide-shots-"))
    _isolate(work)
    sys.path.insert(0, str(REPO))
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        code = run(args.out.resolve(), work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"done in {time.monotonic() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
