"""How a conversation's rows are drawn and measured, and the view that measures only
what it shows.

Every word of an export is the sender's, so it is drawn as plain characters
(``QTextLayout`` and ``QPainter.drawText``: no markup, no links, no mnemonics), with
direction overrides and control characters shown as markers (:func:`visible`). A row
is: who sent it and when (the time as written is the tooltip), the quoted start of the
message it answers, the text wrapped, and its attachments as chips: a picture stays
veiled until clicked, another file shows its name and size, one the export left out
says "Not in the export". Flagged rows carry a red mark and their category; system
lines are grey; an unreadable line is shown as it was, under "Could not read this
line:".

Heights: a wrapped text's height is measured the first time its row comes into view
and kept per row (:class:`ConversationView` asks only for the rows on screen), so a
conversation of 100,000 messages opens as fast as one of a hundred.
"""

from __future__ import annotations

import math
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from evidence_recorder.core.conversation import Message, MessageAttachment, MessageKind
from evidence_recorder.ui.conversation_model import (
    FLAG_ROLE,
    HIGHLIGHT_ROLE,
    MESSAGE_ROLE,
    REPLY_ROLE,
    AnyIndex,
    local_time_text,
)
from evidence_recorder.ui.wording import category_label

MAX_SHOWN_TEXT = 6_000  # characters of one message drawn in its row (the rest: "…")
PICTURE_BOX = QSize(240, 180)
_PAD = 6
_FLAG_BAR = 5
_DEFAULT_ROW = 48
_FLAG_RED = QColor(190, 30, 45)
_HIGHLIGHT = QColor(255, 236, 150)
_QUOTE_BAR = QColor(140, 140, 140)
# Invisible characters that reorder the text around them (Trojan Source tricks): shown
# as markers, as the report shows them. WhatsApp's U+200E marks stay as they are.
_REORDERING = frozenset("\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def visible(text: str) -> str:
    """An export's text as it may be drawn: direction overrides and control characters
    shown as ``[U+202E]`` rather than acting on the text around them."""
    if text.isascii() and text.isprintable():
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        f"[U+{ord(ch):04X}]" if ch in _REORDERING or (
            ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs")) else ch
        for ch in text)


def wrapped(text: str, font: QFont, width: int, *, centred: bool = False) -> QTextLayout:
    """``text`` laid out in lines of ``width``: broken between words, and inside a word
    only where one word is longer than a line (a long link)."""
    layout = QTextLayout(text.replace("\n", "\u2028"), font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    if centred:
        option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    layout.setTextOption(option)
    layout.beginLayout()
    y = 0.0
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0, y))
        y += line.height()
    layout.endLayout()
    return layout


def wrapped_height(text: str, font: QFont, width: int) -> int:
    return math.ceil(wrapped(text, font, width).boundingRect().height()) if text else 0
_PICTURE_TYPES = ("image/",)


def is_picture(attachment: MessageAttachment) -> bool:
    return bool(attachment.artefact) and attachment.media_type.startswith(_PICTURE_TYPES)


def size_text(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@dataclass(slots=True)
class RowLayout:
    """Where the parts of one row go, relative to the row's top-left corner."""

    height: int
    header: QRect | None = None
    quote: QRect | None = None
    text: QRect | None = None
    chips: list[tuple[QRect, int]] = field(default_factory=list)  # (rect, attachment no.)


class ConversationDelegate(QStyledItemDelegate):
    """Draws and measures conversation rows (chat bubbles as rows, or a mailbox's list)."""

    attachment_clicked = Signal(int, int)  # row, attachment number in the message

    def __init__(self, parent: QObject | None = None, *, mailbox: bool = False) -> None:
        super().__init__(parent)
        self.mailbox = mailbox  # a list of e-mails: sender, time, subject, first words
        self.zone: tzinfo | None = None  # the clock times are shown on (the model's)
        self._heights: dict[int, tuple[int, int]] = {}  # row -> (width, height)
        self._pictures: OrderedDict[tuple[int, int], QPixmap] = OrderedDict()
        self.measured = 0  # rows measured (tests check that 100,000 rows are not)
        self.picture_loader: Callable[[int, MessageAttachment], QPixmap | None] | None = None

    # ------------------------------------------------------------------ pictures

    def reveal(self, row: int, number: int, picture: QPixmap) -> None:
        """Show a picture the person clicked (it was veiled): kept for a few rows."""
        self._pictures[(row, number)] = picture
        while len(self._pictures) > 64:
            self._pictures.popitem(last=False)
        self._heights.pop(row, None)

    def is_revealed(self, row: int, number: int) -> bool:
        return (row, number) in self._pictures

    def forget(self) -> None:
        """Drop every measure and revealed picture (the vault locked, or a new item)."""
        self._heights.clear()
        self._pictures.clear()

    def forget_heights(self) -> None:
        self._heights.clear()

    def forget_row(self, row: int) -> None:
        self._heights.pop(row, None)

    # ------------------------------------------------------------------ layout

    @staticmethod
    def _fonts(base: QFont) -> tuple[QFont, QFont, QFont]:
        bold = QFont(base)
        bold.setBold(True)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(base.pointSizeF() if base.pointSizeF() > 0 else mono.pointSizeF())
        return base, bold, mono

    @staticmethod
    def _italic(base: QFont) -> QFont:
        font = QFont(base)
        font.setItalic(True)
        return font

    def _shown_text(self, message: Message) -> str:
        text = message.text
        if self.mailbox:
            subject = " ".join(str(message.extra.get("subject", "")).split()) \
                or self.tr("(no subject)")
            body = " ".join(text[:400].split())
            return visible(f"{subject}\n{body}")
        if len(text) > MAX_SHOWN_TEXT:
            text = text[:MAX_SHOWN_TEXT].rstrip() + "…"
        return visible(text)

    def layout(self, row: int, message: Message, reply: Message | None, width: int,
               font: QFont) -> RowLayout:
        base, _bold, mono = self._fonts(font)
        metrics = QFontMetrics(base)
        line = metrics.height()
        left = _PAD + _FLAG_BAR + 4
        inner = max(40, width - left - _PAD)
        y = _PAD
        out = RowLayout(0)
        if message.kind is MessageKind.SYSTEM:
            height = wrapped_height(visible(message.text[:MAX_SHOWN_TEXT]), self._italic(base),
                                    inner)
            out.text = QRect(left, y, inner, height)
            out.height = y + height + _PAD
            return out
        out.header = QRect(left, y, inner, line)
        y += line + 2
        if message.kind is MessageKind.UNREADABLE:
            height = wrapped_height(visible(message.text[:MAX_SHOWN_TEXT]), mono, inner)
            out.text = QRect(left, y, inner, height)
            out.height = y + height + _PAD
            return out
        if reply is not None and not self.mailbox:
            out.quote = QRect(left, y, inner, line + 4)
            y += line + 8
        text = self._shown_text(message)
        height = 2 * line if self.mailbox else wrapped_height(text, base, inner)
        out.text = QRect(left, y, inner, height)
        y += height
        if not self.mailbox:
            for number in range(len(message.attachments)):
                picture = self._pictures.get((row, number))
                if picture is not None:
                    size = picture.deviceIndependentSize().toSize()
                    chip = QRect(left, y + 4, min(inner, size.width()), size.height())
                else:
                    chip = QRect(left, y + 4, min(inner, 360), line + 10)
                out.chips.append((chip, number))
                y = chip.bottom() + 1
        out.height = y + _PAD
        return out

    def row_height(self, index: AnyIndex, width: int, font: QFont) -> int:
        """The row's height at this width, measured once and kept."""
        row = index.row()
        kept = self._heights.get(row)
        if kept is not None and kept[0] == width:
            return kept[1]
        message = index.data(MESSAGE_ROLE)
        if not isinstance(message, Message):
            return _DEFAULT_ROW
        reply = index.data(REPLY_ROLE) if message.reply_to is not None else None
        self.measured += 1
        height = self.layout(row, message, reply, width, font).height
        self._heights[row] = (width, height)
        return height

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        width = option.rect.width() if option.rect.width() > 0 else 400
        return QSize(width, self.row_height(index, width, option.font))

    # ------------------------------------------------------------------ painting

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        message = index.data(MESSAGE_ROLE)
        if not isinstance(message, Message):
            return
        reply = index.data(REPLY_ROLE) if message.reply_to is not None else None
        flag = index.data(FLAG_ROLE)
        rect = option.rect
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        layout = self.layout(index.row(), message, reply, rect.width(), option.font)
        base, bold, mono = self._fonts(option.font)
        painter.save()
        try:
            painter.setClipRect(rect)
            if selected:
                painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
            elif index.data(HIGHLIGHT_ROLE):
                painter.fillRect(rect, _HIGHLIGHT)
            text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected
                                        else QPalette.ColorRole.Text)
            grey = palette.color(QPalette.ColorRole.PlaceholderText)
            if selected:
                grey = text_colour
            elif index.data(HIGHLIGHT_ROLE):
                text_colour = grey = QColor(20, 20, 20)
            if flag is not None:
                painter.fillRect(QRect(rect.left() + _PAD, rect.top() + 2, _FLAG_BAR,
                                       rect.height() - 4), _FLAG_RED)
            top_left = rect.topLeft()

            def at(part: QRect) -> QRect:
                return part.translated(top_left)

            if message.kind is MessageKind.SYSTEM:
                painter.setPen(grey)
                assert layout.text is not None
                box = at(layout.text)
                wrapped(visible(message.text[:MAX_SHOWN_TEXT]), self._italic(base), box.width(),
                        centred=True).draw(painter, QPointF(box.topLeft()))
                return
            assert layout.header is not None
            self._paint_header(painter, at(layout.header), message, flag, bold, base,
                               text_colour, grey)
            if message.kind is MessageKind.UNREADABLE:
                painter.setPen(text_colour)
                assert layout.text is not None
                box = at(layout.text)
                wrapped(visible(message.text[:MAX_SHOWN_TEXT]), mono, box.width()).draw(
                    painter, QPointF(box.topLeft()))
                return
            if layout.quote is not None and reply is not None:
                quote = at(layout.quote)
                painter.fillRect(QRect(quote.left(), quote.top(), 3, quote.height()), _QUOTE_BAR)
                painter.setFont(base)
                painter.setPen(grey)
                snippet = self.tr("Reply to {sender}: {text}").format(
                    sender=visible(reply.sender),
                    text=visible(" ".join(reply.text[:300].split())))
                painter.drawText(quote.adjusted(8, 2, 0, 0),
                                 int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                                 QFontMetrics(base).elidedText(snippet,
                                                               Qt.TextElideMode.ElideRight,
                                                               quote.width() - 8))
            assert layout.text is not None
            painter.setPen(text_colour)
            text = self._shown_text(message)
            if self.mailbox:
                subject, _, body = text.partition("\n")
                line = QFontMetrics(base).height()
                painter.setFont(bold)
                box = at(layout.text)
                painter.drawText(QRect(box.left(), box.top(), box.width(), line),
                                 int(Qt.AlignmentFlag.AlignLeft),
                                 QFontMetrics(bold).elidedText(subject,
                                                               Qt.TextElideMode.ElideRight,
                                                               box.width()))
                painter.setFont(base)
                painter.setPen(grey)
                painter.drawText(QRect(box.left(), box.top() + line, box.width(), line),
                                 int(Qt.AlignmentFlag.AlignLeft),
                                 QFontMetrics(base).elidedText(body, Qt.TextElideMode.ElideRight,
                                                               box.width()))
            else:
                box = at(layout.text)
                wrapped(text, base, box.width()).draw(painter, QPointF(box.topLeft()))
            for chip, number in layout.chips:
                self._paint_chip(painter, at(chip), index.row(), number,
                                 message.attachments[number], base, text_colour, grey)
        finally:
            painter.restore()

    def _paint_header(self, painter: QPainter, box: QRect, message: Message, flag: object,
                      bold: QFont, base: QFont, text: QColor, grey: QColor) -> None:
        metrics = QFontMetrics(base)
        right = ""
        if flag is not None:
            category = category_label(getattr(flag, "category", "") or "")
            right = (self.tr("⚑ Flagged: {category}").format(category=category) if category
                     else self.tr("⚑ Flagged"))
        right_width = metrics.horizontalAdvance(right) + 8 if right else 0
        if message.kind is MessageKind.UNREADABLE:
            painter.setFont(base)
            painter.setPen(grey)
            painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft),
                             self.tr("Could not read this line:"))
        else:
            sender = visible(" ".join(message.sender.split())) or self.tr("(no name)")
            when = local_time_text(message, self.zone)
            if message.edited_at:
                when = self.tr("{when} (edited)").format(when=when)
            painter.setFont(bold)
            painter.setPen(text)
            room = max(20, box.width() - right_width)
            name = QFontMetrics(bold).elidedText(sender, Qt.TextElideMode.ElideRight,
                                                 room * 2 // 3)
            painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft), name)
            offset = QFontMetrics(bold).horizontalAdvance(name) + 10
            painter.setFont(base)
            painter.setPen(grey)
            painter.drawText(box.adjusted(offset, 0, -right_width, 0),
                             int(Qt.AlignmentFlag.AlignLeft),
                             metrics.elidedText(when, Qt.TextElideMode.ElideRight,
                                                max(0, room - offset)))
        if right:
            painter.setFont(base)
            painter.setPen(_FLAG_RED if text != QColor(255, 255, 255) else text)
            painter.drawText(box, int(Qt.AlignmentFlag.AlignRight), right)

    def _paint_chip(self, painter: QPainter, box: QRect, row: int, number: int,
                    attachment: MessageAttachment, base: QFont, text: QColor,
                    grey: QColor) -> None:
        picture = self._pictures.get((row, number))
        if picture is not None:
            painter.drawPixmap(box.topLeft(), picture)
            return
        painter.setPen(QPen(grey, 1))
        painter.setBrush(QColor(128, 128, 128, 40))
        painter.drawRoundedRect(box.adjusted(0, 0, -1, -1), 4, 4)
        if attachment.omitted:
            words = self.tr("Not in the export: {name}").format(name=visible(attachment.name))
        elif not attachment.artefact:
            words = self.tr("Not kept: {name}").format(name=visible(attachment.name))
        elif is_picture(attachment):
            words = self.tr("Picture, hidden: click to show ({name})").format(
                name=visible(attachment.name))
        else:
            size = size_text(attachment.size)
            name = visible(attachment.name)
            words = (self.tr("File: {name}, {size}").format(name=name, size=size)
                     if size else self.tr("File: {name}").format(name=name))
        painter.setFont(base)
        painter.setPen(text)
        painter.drawText(box.adjusted(8, 0, -8, 0),
                         int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                         QFontMetrics(base).elidedText(words, Qt.TextElideMode.ElideMiddle,
                                                       box.width() - 16))

    # ------------------------------------------------------------------ clicks

    def chip_at(self, index: AnyIndex, rect: QRect, point: QPoint,
                font: QFont) -> int | None:
        """The attachment number under ``point`` (view coordinates), if any."""
        message = index.data(MESSAGE_ROLE)
        if not isinstance(message, Message) or not message.attachments:
            return None
        reply = index.data(REPLY_ROLE) if message.reply_to is not None else None
        layout = self.layout(index.row(), message, reply, rect.width(), font)
        for chip, number in layout.chips:
            if chip.translated(rect.topLeft()).contains(point):
                return number
        return None

    def editorEvent(self, event: QEvent, model: QAbstractItemModel,
                    option: QStyleOptionViewItem, index: AnyIndex) -> bool:
        if (event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent)
                and event.button() == Qt.MouseButton.LeftButton):
            number = self.chip_at(index, option.rect, event.position().toPoint(), option.font)
            if number is not None:
                self.attachment_clicked.emit(index.row(), number)
                return True
        return super().editorEvent(event, model, option, index)


class ConversationView(QTableView):
    """One column of rows whose heights are measured only as they come into view."""

    def __init__(self, delegate: ConversationDelegate, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.delegate = delegate
        self.setItemDelegate(delegate)
        self.horizontalHeader().hide()
        self.horizontalHeader().setStretchLastSection(True)
        vertical = self.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setMinimumSectionSize(8)
        vertical.setDefaultSectionSize(_DEFAULT_ROW)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._measure_timer = QTimer(self)
        self._measure_timer.setSingleShot(True)
        self._measure_timer.setInterval(0)
        self._measure_timer.timeout.connect(self.measure_visible)
        self._width = 0
        self.verticalScrollBar().valueChanged.connect(lambda _v: self._measure_timer.start())

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            model.modelReset.connect(self._model_reset)
            model.dataChanged.connect(self._data_changed)
        self._measure_timer.start()

    def _model_reset(self) -> None:
        self.delegate.forget()
        self._measure_timer.start()

    def _data_changed(self, _top: QModelIndex, _bottom: QModelIndex,
                      _roles: object = None) -> None:
        # Flags and highlights leave heights as they are; a revealed picture forgets its
        # row's height itself (ConversationDelegate.reveal).
        self._measure_timer.start()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        width = self.viewport().width()
        if width != self._width:
            self._width = width
            self.delegate.forget_heights()
        self._measure_timer.start()

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        self.measure_visible()

    def measure_visible(self) -> None:
        """Give the rows on screen (and a few below) their wrapped heights."""
        model = self.model()
        if model is None or model.rowCount() == 0:
            return
        width = self.viewport().width()
        height = self.viewport().height()
        row = max(0, self.rowAt(0))
        y = self.rowViewportPosition(row)
        count = model.rowCount()
        extra = 3
        font = self.font()
        while row < count and (y < height or extra > 0):
            if y >= height:
                extra -= 1
            wanted = self.delegate.row_height(model.index(row, 0), width, font)
            now = self.rowHeight(row)
            if wanted != now:
                above = y < 0
                self.setRowHeight(row, wanted)
                if above:  # the row straddles the top: keep what is on screen still
                    bar = self.verticalScrollBar()
                    bar.blockSignals(True)
                    bar.setValue(bar.value() + wanted - now)
                    bar.blockSignals(False)
            y += wanted
            row += 1

    def scroll_to_row(self, row: int, hint: QAbstractItemView.ScrollHint
                      = QAbstractItemView.ScrollHint.PositionAtTop) -> None:
        """Scroll so that ``row`` shows, measuring around it first."""
        model = self.model()
        if model is None or not 0 <= row < model.rowCount():
            return
        index = model.index(row, 0)
        self.scrollTo(index, hint)
        self.measure_visible()
        self.scrollTo(index, hint)
        self.measure_visible()


__all__ = ["MAX_SHOWN_TEXT", "ConversationDelegate", "ConversationView", "RowLayout",
           "is_picture", "size_text"]
