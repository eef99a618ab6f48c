"""The first-run guide and the child-protection stop (policy 4.7.3).

The stop must be easy to find before any capture, must capture nothing, and must say
plainly what to do instead: not to copy, save or forward the material, and to contact
the police and the LADO at once, and the headteacher or designated safeguarding lead.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP

# British English source texts; child_protection_title() and friends translate them.
CHILD_PROTECTION_TITLE = QT_TRANSLATE_NOOP("Guide", "This involves sexual images of a child")

CHILD_PROTECTION_TEXT = QT_TRANSLATE_NOOP("Guide", """\
<h2>Stop. Do not capture this.</h2>
<p>Nothing has been captured or saved.</p>
<p><b>Do not copy, screenshot, save, download or forward the material</b>, not even to
report it, and do not show it to anyone. Doing so can itself be a crime, and it can
harm the child and any investigation.</p>
<p><b>Contact the police straight away</b> (999 if a child is in immediate danger,
otherwise 101) and tell them where you saw it.</p>
<p><b>Contact your local authority designated officer (LADO) immediately</b>: your
school's safeguarding policy gives their number.</p>
<p><b>Tell your headteacher or designated safeguarding lead</b> as soon as you can.</p>
<p>You can note down, in words, where you saw it (the site, the account name and the time)
so that you can tell the police. You can also report it to the Internet Watch Foundation
at report.iwf.org.uk.</p>
""")

GUIDE_TEXT = QT_TRANSLATE_NOOP("Guide", """\
<h2>How {app} helps</h2>
<p>Your school's policy asks you to keep a record of online abuse: take screen prints,
note the <b>time, date and site</b> of each, and never delete the originals. This app does
that for you and keeps everything locked on this computer.</p>
<h3>What to capture</h3>
<ul>
<li>The post, comment or message itself, with enough of the conversation around it to
make sense of it.</li>
<li><b>Who</b> posted it: their name, @handle and a link to their profile.</li>
<li><b>Where</b>: the site or app, and the link to the post or message.</li>
<li><b>When</b>: the time shown on the post. The app records the exact time of your
capture for you.</li>
<li>Each separate incident. Harassment is a course of conduct, so a series of captures over
time matters.</li>
</ul>
<h3>Your originals are never changed</h3>
<p>Each capture is fingerprinted (SHA-256) the moment it is taken. You can highlight or
cover parts of a copy, for example to hide a pupil's name, but the original stays exactly
as captured.</p>
<h3>What happens next is your choice</h3>
<p>Report the abuse to your headteacher or line manager. Whether to go to the police is
your own decision; the app can export a sealed report for either.</p>
<h3>If you find sexual images of a child</h3>
<p>Do not capture, copy or forward them. Use the red <b>“{stop}”</b>
button instead: it captures nothing and tells you whom to contact at once (the police and
the LADO).</p>
""")


def child_protection_title() -> str:
    return QCoreApplication.translate("Guide", CHILD_PROTECTION_TITLE)


def guide_text() -> str:
    return QCoreApplication.translate("Guide", GUIDE_TEXT).format(
        app=APP_NAME, stop=child_protection_title())


class _TextDialog(QDialog):
    def __init__(self, title: str, html: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        text = QLabel(html)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        text.setAccessibleName(title)
        layout.addWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.setMinimumWidth(560)


class ChildProtectionDialog(_TextDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(child_protection_title(),
                         QCoreApplication.translate("Guide", CHILD_PROTECTION_TEXT), parent)


def child_protection_button(parent: QWidget | None = None) -> QPushButton:
    """The red stop button: shown before every capture and in the guide."""
    button = QPushButton(child_protection_title(), parent)
    button.setObjectName("childProtectionStop")
    button.setStyleSheet("QPushButton#childProtectionStop { background: #b3261e; color: white;"
                         " font-weight: bold; padding: 6px 12px; border-radius: 4px; }")
    button.setAccessibleName(child_protection_title())
    button.setToolTip(QCoreApplication.translate(
        "Guide", "Captures nothing. Tells you what to do and whom to contact."))
    button.clicked.connect(lambda: ChildProtectionDialog(button.window()).exec())
    return button


class GuideDialog(_TextDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Welcome to {app}").format(app=APP_NAME), guide_text(), parent)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.count() - 1, child_protection_button(self),
                            alignment=Qt.AlignmentFlag.AlignLeft)
