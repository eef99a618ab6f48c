"""The first-run guide and the child-protection stop (policy 4.7.3).

The stop must be easy to find before any capture, must capture nothing, and must say
plainly what to do instead: not to copy, save or forward the material, and to contact
the police and the LADO at once, and the headteacher or designated safeguarding lead.

Easy to find means always in sight: every window where evidence is seen pins the red
button in a toolbar of its own (``pin_child_protection_stop``), which never folds away
behind the overflow chevron and cannot be hidden, and shows the stop red in its menus
(``show_red_in``).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QPainter, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QMenu,
    QProxyStyle,
    QPushButton,
    QStyle,
    QStyleOption,
    QStyleOptionMenuItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from evidence_recorder import APP_NAME
from evidence_recorder.core.i18n import QT_TRANSLATE_NOOP
from evidence_recorder.ui import theme

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


def child_protection_tip() -> str:
    return QCoreApplication.translate(
        "Guide", "Captures nothing. Tells you what to do and whom to contact.")


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
        self.text = text

    def showEvent(self, event: QShowEvent) -> None:
        # Word-wrapped text needs its height worked out at the final width, or the last
        # paragraph is cut off.
        super().showEvent(event)
        if (layout := self.layout()) is not None:
            layout.activate()
        self.resize(self.width(), max(self.height(), self.heightForWidth(self.width())))


class ChildProtectionDialog(_TextDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(child_protection_title(),
                         QCoreApplication.translate("Guide", CHILD_PROTECTION_TEXT), parent)


def child_protection_button(parent: QWidget | None = None,
                            action: QAction | None = None) -> QPushButton:
    """The red stop button: shown before every capture, in the guide and in toolbars.

    Clicking it triggers ``action`` when given (the window's own stop action), otherwise
    it opens the child-protection advice itself.
    """
    button = QPushButton(child_protection_title(), parent)
    button.setObjectName("childProtectionStop")
    button.setStyleSheet(theme.stop_style("QPushButton#childProtectionStop"))
    button.setAccessibleName(child_protection_title())
    button.setToolTip(child_protection_tip())
    if action is not None:
        button.clicked.connect(action.trigger)
    else:
        button.clicked.connect(lambda: ChildProtectionDialog(button.window()).exec())
    return button


def pin_child_protection_stop(window: QMainWindow, action: QAction | None = None) -> QToolBar:
    """Pin the red stop at the right of ``window``'s top toolbar row, always in sight.

    It has a toolbar of its own, so it never folds away with the window's other buttons
    when the window is narrow or the text large: a toolbar folds away all but its first
    button, and this one holds only the red button, so its smallest width is all of it.
    It cannot be moved, floated or switched off from the toolbars' right-click menu.
    """
    bar = QToolBar(child_protection_title(), window)
    bar.setObjectName("childProtectionToolbar")
    bar.setMovable(False)
    bar.setFloatable(False)
    bar.setAllowedAreas(Qt.ToolBarArea.TopToolBarArea)
    bar.toggleViewAction().setVisible(False)  # not in the menu that hides toolbars
    bar.addWidget(child_protection_button(bar, action))
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    return bar


class _RedItemStyle(QProxyStyle):
    """The application's style, except that one menu item is drawn as the red stop."""

    def __init__(self, action: QAction) -> None:
        super().__init__()  # no base given: follows the application's style
        self._action = action

    def drawControl(self, element: QStyle.ControlElement, option: QStyleOption,
                    painter: QPainter, widget: QWidget | None = None) -> None:
        if (element == QStyle.ControlElement.CE_MenuItem
                and isinstance(option, QStyleOptionMenuItem)
                and option.text.split("\t")[0] == self._action.text()):
            selected = bool(option.state & QStyle.StateFlag.State_Selected)
            back, fore = theme.stop_colours(pressed=selected)
            item = QStyleOptionMenuItem(option)
            palette = QPalette(item.palette)
            for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText,
                         QPalette.ColorRole.ButtonText, QPalette.ColorRole.HighlightedText):
                palette.setColor(role, fore)
            palette.setColor(QPalette.ColorRole.Highlight, back)
            item.palette = palette
            painter.fillRect(item.rect, back)
            super().drawControl(element, item, painter, widget)
            return
        super().drawControl(element, option, painter, widget)


def show_red_in(menu: QMenu, action: QAction) -> None:
    """Draw ``action`` in ``menu`` as the red stop, white on red like the button.

    A menu item cannot be coloured with a style sheet alone; the item stays an ordinary
    action (keyboard, screen readers, shortcuts) and only its drawing changes.
    """
    style = _RedItemStyle(action)
    style.setParent(menu)  # a widget does not own its style; the menu keeps this one alive
    menu.setStyle(style)


class GuideDialog(_TextDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Welcome to {app}").format(app=APP_NAME), guide_text(), parent)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.count() - 1, child_protection_button(self),
                            alignment=Qt.AlignmentFlag.AlignLeft)
