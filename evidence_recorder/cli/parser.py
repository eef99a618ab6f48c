"""The argparse tree: every command's name, options and --help text, wired to the
functions of the ``*_commands`` modules (looked up on their module when the parser is
built, so a test can stand in for one)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import Any

from evidence_recorder import __version__
from evidence_recorder.cli import (
    bundle_commands,
    evidence_commands,
    message_commands,
    vault_commands,
    web_commands,
)
from evidence_recorder.cli.common import (
    BUNDLE_PASSPHRASE_ENV,
    DETAIL_OPTIONS,
    EXIT_USAGE,
    NEW_PASSPHRASE_ENV,
    PASSPHRASE_ENV,
    RECOVERY_KEY_ENV,
    _Parser,
)
from evidence_recorder.core import fields, paths
from evidence_recorder.core.gather.webpage import DEFAULT_TIMEOUT
from evidence_recorder.core.model import Category


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value

def _index(text: str) -> int:
    """A message's number (argparse type): 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a message number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("message numbers start at 0")
    return value


def _indexes(text: str) -> list[int]:
    """``3,5,8`` (argparse type): message or e-mail numbers, 0 or more each."""
    return [_index(part.strip()) for part in text.split(",") if part.strip()]


def _box(text: str) -> list[float]:
    """``X,Y,W,H`` in the original's pixels (argparse type): four numbers."""
    parts = [part.strip() for part in text.split(",")]
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise argparse.ArgumentTypeError(
            f"“{text}” is not a box: write X,Y,W,H in pixels, e.g. 10,20,300,40")
    return [int(n) if n.is_integer() else n for n in numbers]

def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--vault", metavar="DIR", default=argparse.SUPPRESS,
                        help="the vault folder (default: $EVIDENCE_RECORDER_VAULT, else "
                             f"{paths.default_vault_dir()})")
    common.add_argument("--passphrase-file", metavar="FILE", default=argparse.SUPPRESS,
                        help="read the passphrase from the first line of FILE "
                             f"(or set ${PASSPHRASE_ENV}); otherwise it is asked for")

    parser = _Parser(
        prog="evidence-recorder",
        description="Keep timestamped, tamper-evident evidence of online abuse in an "
                    "encrypted vault.",
        epilog="Environment: EVIDENCE_RECORDER_VAULT (vault folder), "
               f"{PASSPHRASE_ENV}, {NEW_PASSPHRASE_ENV} (for passwd, rekey and recover), "
               f"{RECOVERY_KEY_ENV} (for recover). Exit codes: 0 success, 1 failure, "
               "2 usage, 3 wrong passphrase or recovery key, 4 refused input.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
                parent: Any = sub) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help_text,
                                                       description=help_text, parents=[common])
        p.set_defaults(func=func)
        return p

    def detail_options(p: argparse.ArgumentParser, *, incident_help: str) -> None:
        group = p.add_argument_group("what to record about it")
        group.add_argument("--incident", type=_positive_int, metavar="ID", help=incident_help)
        for option, dest, help_text in DETAIL_OPTIONS:
            kwargs: dict[str, Any] = {"dest": dest, "help": help_text, "metavar": "TEXT"}
            if fields.BY_NAME[dest].value is fields.Value.CATEGORY:
                kwargs.update(choices=[c.value for c in Category], metavar="CATEGORY")
            group.add_argument(option, **kwargs)

    command("init", vault_commands.cmd_init, "create a new vault and show its recovery key once")

    p = command("capture", evidence_commands.cmd_capture,
                "capture the screen (all monitors unless told otherwise)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--monitor", type=_positive_int, metavar="N", help="only monitor N")
    where.add_argument("--region", metavar="X,Y,W,H", help="only this rectangle, in screen pixels")
    where.add_argument("--window", action="store_true",
                       help="the active window (click it during --delay)")
    p.add_argument("--delay", type=float, default=0.0, metavar="S",
                   help="wait S seconds first (to open a menu, say)")
    detail_options(p, incident_help="put it in incident ID (default: unsorted captures)")

    p = command("import", evidence_commands.cmd_import,
                "import pictures, e-mails and chat exports from files")
    p.description = (
        "Import files as evidence. Each file is recognised by what it contains, not its "
        "name, and the command says what it took each one for: pictures (PNG, JPEG, WebP, "
        "GIF, BMP, HEIC), e-mails (.eml, Outlook .msg, a whole mbox mailbox) and chat "
        "exports (WhatsApp .txt or .zip, Telegram result.json, Facebook, Messenger and "
        "Instagram JSON, Discord JSON, Signal text, SMS Backup & Restore XML). The file is "
        "kept byte for byte and hashed; an export's messages are read so they can be "
        "listed, searched and flagged (see “messages” and “flag”).")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--pick", type=_indexes, metavar="N[,N...]",
                   help="for a mailbox: take only these e-mails, each as an item of its own "
                        "(numbered as “mailbox FILE” lists them); by default the whole "
                        "mailbox is one item")
    detail_options(p, incident_help="put them in incident ID (default: unsorted captures)")

    p = command("mailbox", message_commands.cmd_mailbox,
                "list the e-mails in a mailbox file (mbox), numbered for import --pick; "
                "needs no vault")
    p.add_argument("file", metavar="FILE")

    p = command("messages", message_commands.cmd_messages,
                "print the messages of an imported e-mail or chat export")
    p.add_argument("id", type=_positive_int, metavar="ID", help="the e-mail or chat item")
    p.add_argument("--from", dest="since", metavar="DATE",
                   help="only messages sent on or after DATE (2026-11-25, or "
                        "2026-11-25T18:30; local time unless a zone is given)")
    p.add_argument("--to", dest="until", metavar="DATE",
                   help="only messages sent on or before DATE (a date includes that whole day)")
    p.add_argument("--search", metavar="TEXT",
                   help="only messages whose text or sender contains TEXT (any case)")
    p.add_argument("--json", action="store_true",
                   help="print JSON for scripts: index, sender, sent_at (UTC), text, "
                        "attachments and more for each message")

    p = command("flag", message_commands.cmd_flag,
                "flag messages of an e-mail or chat export as mattering, with a "
                "category and a note (audited); --remove takes flags off")
    p.add_argument("id", type=_positive_int, metavar="ID", help="the e-mail or chat item")
    p.add_argument("indexes", nargs="+", type=_index, metavar="INDEX",
                   help="the messages' numbers, as “messages” prints them")
    p.add_argument("--category", choices=[c.value for c in Category], metavar="CATEGORY",
                   help="what kind of abuse: " + ", ".join(c.value for c in Category))
    p.add_argument("--note", metavar="TEXT", help="what matters about it")
    p.add_argument("--remove", action="store_true", help="take the flag off these messages")

    p = command("capture-web", web_commands.cmd_capture_web,
                "load a web page without showing a window and keep it as evidence")
    p.description = (
        "Load a web page without showing a window (only http:// and https:// addresses) and "
        "keep it as evidence: a picture of the whole page (split into numbered parts when "
        "it is very tall, never cut) and of what was on screen, the page as shown (MHTML), "
        "its network traffic (WARC), and its final address, title, HTTP status, server "
        "address and, for https, the site's certificate chain. Each file is hashed as it "
        "goes into the vault. Nothing is kept on disk outside the vault: the browser keeps "
        "no cache, cookies or history, and downloads nothing.")
    p.add_argument("url", metavar="URL", help="the page's address, starting with https://")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--visible-only", action="store_true",
                      help="keep only what fits on screen, not the whole page")
    what.add_argument("--panel", metavar="CSS-SELECTOR",
                      help="capture this scrolling panel whole (a thread or chat that "
                           "scrolls inside the page), e.g. “div.comments”; by default the "
                           "page, or its largest scrolling panel when the page itself does "
                           "not scroll")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long after the page has loaded before capturing "
                        "(up to 600)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   metavar="SECONDS",
                   help="stop loading after this long and capture what has loaded "
                        "(default %(default)g, up to 600)")
    detail_options(p, incident_help="put it in incident ID (default: unsorted captures)")

    p = command("recheck", web_commands.cmd_recheck,
                "visit a kept web page's address again and keep what it shows now, "
                "linked to the first (is the post still there?)")
    p.add_argument("id", type=_positive_int, metavar="ID", help="the web page to check again")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long after the page has loaded before capturing")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   metavar="SECONDS",
                   help="stop loading after this long (default %(default)g, up to 600)")

    p = command("list", evidence_commands.cmd_list,
                "list captures (evidence items), oldest first; --json gives "
                "each one's kind and title too")
    p.add_argument("--incident", type=_positive_int, metavar="ID", help="only this incident")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")

    p = command("show", evidence_commands.cmd_show,
                "show everything recorded about one capture, and the files "
                "it holds (--json: their names, roles, sizes and SHA-256)")
    p.add_argument("id", type=_positive_int, metavar="ID")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")

    p = command("edit", evidence_commands.cmd_edit,
                "change what is recorded about a capture (the change is "
                "audited; the image never changes)")
    p.add_argument("id", type=_positive_int, metavar="ID")
    detail_options(p, incident_help="move it to incident ID")

    p = command("annotate", evidence_commands.cmd_annotate,
                "cover (redact) or highlight parts of a capture; "
                "the original never changes, and the change is "
                "audited like the editor's")
    p.add_argument("id", type=_positive_int, metavar="ID")
    p.add_argument("--redact", type=_box, action="append", metavar="X,Y,W,H",
                   help="cover this box with solid black in what is shared, in the "
                        "original's pixels (repeat for more)")
    p.add_argument("--highlight", type=_box, action="append", metavar="X,Y,W,H",
                   help="highlight this box, in the original's pixels (repeat for more)")
    p.add_argument("--clear", action="store_true",
                   help="remove every annotation first (alone: just remove them)")

    p = command("extract", evidence_commands.cmd_extract,
                "write one file a capture holds (by default its "
                "original image or main file), byte for byte, to a "
                "file (unencrypted)")
    p.add_argument("id", type=_positive_int, metavar="ID")
    p.add_argument("--artefact", metavar="NAME",
                   help="which of its files to write, by name as “show” lists them "
                        "(default: the main one)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = command("delete", evidence_commands.cmd_delete,
                "delete a capture; its SHA-256 and your reason stay in "
                "the audit log")
    p.add_argument("id", type=_positive_int, metavar="ID")
    p.add_argument("--reason", required=True, metavar="TEXT")

    incident_parser = command("incident", lambda _args: _usage(incident_parser),
                              "create or list incidents")
    incident_sub = incident_parser.add_subparsers(dest="incident_command", metavar="ACTION",
                                    parser_class=_Parser)
    q = command("new", evidence_commands.cmd_incident_new, "create an incident", incident_sub)
    q.add_argument("--title", required=True, metavar="T")
    q.add_argument("--description", metavar="TEXT")
    q.add_argument("--started", metavar="WHEN", help="when it started, in your words")
    q = command("list", evidence_commands.cmd_incident_list, "list incidents", incident_sub)
    q.add_argument("--json", action="store_true", help="print JSON for scripts")

    p = command("audit", vault_commands.cmd_audit,
                "show the audit log, or check the whole vault with --verify")
    p.add_argument("--verify", action="store_true",
                   help="recompute the hash chain; re-hash every original, thumbnail, report "
                        "picture and highlight against the SHA-256 the log recorded; replay "
                        "captures and incidents from the log against what is stored; check "
                        "the signing key and every export's key. It cannot detect a log "
                        "rewritten and re-chained by someone holding the key (see SECURITY.md)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("--accept-older-copy", action="store_true",
                   help="you put back an older copy of the vault on purpose: record that in "
                        "the audit log and stop warning that it is older")

    p = command("export", bundle_commands.cmd_export,
                "seal captures into a signed report bundle (a ZIP) for a "
                "headteacher or the police")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="the bundle to write (or a folder to put it in)")
    p.add_argument("--incident", type=_positive_int, action="append", metavar="ID",
                   help="only this incident (repeat for more)")
    p.add_argument("--capture", type=_positive_int, action="append", metavar="ID",
                   help="only this capture (repeat for more)")
    p.add_argument("--audience", choices=["headteacher", "police"], default="headteacher",
                   help="headteacher (the default): a capture with something covered goes "
                        "out as the covered copy only; police: every original goes out too")
    originals = p.add_mutually_exclusive_group()
    originals.add_argument("--include-covered-originals", action="store_true",
                           help="for the headteacher: also include the untouched originals "
                                "of the captures you covered (the police always get them)")
    # The flag of earlier versions: covered originals are now left out by default.
    originals.add_argument("--no-originals", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--encrypt", action="store_true",
                   help="wrap the bundle in an AES-256 ZIP (7-Zip opens it), locked with a "
                        "passphrase of six random words that is made and shown once (or your "
                        f"own, from ${BUNDLE_PASSPHRASE_ENV} or --own-passphrase, if it is as "
                        "strong)")
    p.add_argument("--own-passphrase", action="store_true",
                   help="with --encrypt: ask for your own passphrase instead")
    p.add_argument("--timestamp-url", metavar="URL",
                   help="add a trusted RFC 3161 timestamp from this time-stamping service")
    p.add_argument("--name", metavar="TEXT", help="your name, for the report")
    p.add_argument("--role", metavar="TEXT", help="your role, for the report")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = command("seal", bundle_commands.cmd_seal,
                "show your seal: the fingerprint and seal number a "
                "recipient confirms with you by phone")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")

    p = command("verify", bundle_commands.cmd_verify,
                "check a bundle: exits 0 only if nothing in it changed "
                "(no vault needed)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")

    trust_parser = command("trust", lambda _args: _usage(trust_parser),
                           "choose which time-stamping authorities' root certificates to trust")
    trust_sub = trust_parser.add_subparsers(dest="trust_command", metavar="ACTION",
                                            parser_class=_Parser)
    q = command("add", bundle_commands.cmd_trust_add,
                "trust a time-stamping authority's root certificate "
                "(PEM or DER file)", trust_sub)
    q.add_argument("file", metavar="FILE")
    q = command("list", bundle_commands.cmd_trust_list,
                "list the root certificates you added", trust_sub)
    q.add_argument("--json", action="store_true", help="print JSON for scripts")
    q = command("remove", bundle_commands.cmd_trust_remove,
                "stop trusting a root certificate you added",
                trust_sub)
    q.add_argument("fingerprint", metavar="FINGERPRINT",
                   help="its SHA-256 fingerprint, as trust list shows it (at least 8 characters)")

    p = command("open", bundle_commands.cmd_open, "open a bundle someone sent you in the viewer")
    p.add_argument("file", metavar="FILE")

    p = command("backup", vault_commands.cmd_backup,
                "make an encrypted backup of the vault, check one, or "
                "restore one after damage")
    p.epilog = ("A backup is one file holding an encrypted copy of the database and the key "
                "file, made while the vault is open; it opens with the same passphrase or "
                "recovery key. To recover after damage: leave the damaged vault folder as it "
                "is, run “evidence-recorder backup --check FILE”, then “evidence-recorder "
                "backup --restore FILE --to NEWDIR” (an empty or new folder), and open NEWDIR "
                "with --vault NEWDIR. Captures made after the backup are not in it.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", metavar="FILE",
                      help="write a backup to FILE (or into the folder FILE)")
    what.add_argument("--check", metavar="FILE",
                      help="check that a backup is whole (no passphrase needed)")
    what.add_argument("--restore", metavar="FILE",
                      help="unpack a checked backup into the folder given with --to")
    p.add_argument("--to", metavar="DIR", help="the empty or new folder to restore into")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = command("passwd", vault_commands.cmd_passwd, "change the passphrase")
    p.epilog = ("Only the passphrase changes; the recovery key stays the same. Copies of the "
                "vault or of vault.key made before (backups, old copies on a USB stick) still "
                "open with the old passphrase: if someone may know it or have a copy, use "
                "“rekey” instead.")
    p = command("rekey", vault_commands.cmd_rekey,
                "change all keys: re-encrypt the vault with a new key, a "
                "new passphrase and a new recovery key")
    p.epilog = ("The whole vault is re-encrypted, so it needs about its own size in free disk "
                "space and may take a while for a large vault; if the computer stops part way, "
                "the next unlock finishes or undoes the change. Afterwards old copies of "
                "vault.key and the old recovery key no longer open the vault. Backups made "
                "before are separate copies and still open with the old passphrase: delete "
                "them or keep them safe. The new recovery key is shown once.")
    command("recover", vault_commands.cmd_recover,
            "open the vault with the recovery key and choose a new "
            "passphrase")
    return parser

def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE

