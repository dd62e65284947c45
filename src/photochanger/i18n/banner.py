"""One-time secrets on the terminal: a generated password and the banner that shows it.

Generated secrets go to the terminal as a plain banner written straight to the stream, never through
`logging`: structured logs are shipped and kept, a one-time password must not be.
"""

import secrets
import sys
from typing import TextIO

from photochanger.i18n import Translator


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def print_banner(title: str, lines: list[str], out: TextIO | None = None, *, language: str = "en") -> None:
    """A one-time secret on the terminal, in the terminal's language (`title` and `lines` are msgids)."""
    t = Translator(language)
    stream = out or sys.stderr
    rule = "=" * 72
    body = "\n".join(f"  {line}" for line in lines)
    shown_once = t.gettext("This is shown once and never logged.")
    stream.write(f"\n{rule}\n  {t.gettext(title)}\n{body}\n  {shown_once}\n{rule}\n\n")
    stream.flush()
