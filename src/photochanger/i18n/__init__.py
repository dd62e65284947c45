"""Languages of the UI: gettext catalogues (Babel), the language a request is served in, and a translator.

Catalogues live in `photochanger/locale/<lang>/LC_MESSAGES/messages.po`; the compiled `.mo` beside it is
built by `make install` (`pybabel compile`) or, when missing or older than its `.po`, on first use."""

import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, default_locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

logger = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"
# English is the source language: its "catalogue" is the msgids themselves.
SOURCE_LANGUAGE = "en"
LANG_COOKIE = "pc_lang"
LANG_QUERY = "lang"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


def _mo_path(language: str, directory: Path = LOCALE_DIR) -> Path:
    return directory / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def compile_catalogue(po: Path, language: str) -> bytes:
    """The `.mo` bytes of a `.po` file (fuzzy entries left out, as `pybabel compile` does)."""
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def load_translations(language: str, directory: Path = LOCALE_DIR) -> Translations:
    """A language's compiled catalogue from `directory`. A missing or stale `.mo` (older than its `.po`) is
    compiled from the `.po` and written beside it when the directory is writable; an installed, read-only
    package keeps the compiled catalogue in memory."""
    mo = _mo_path(language, directory)
    po = mo.with_suffix(".po")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    data = compile_catalogue(po, language)
    try:
        mo.write_bytes(data)
    except OSError as exc:
        logger.info("i18n: cannot write %s (%s); using the catalogue compiled in memory", mo, exc)
    return Translations(io.BytesIO(data), domain=DOMAIN)


@cache
def translations(language: str) -> NullTranslations:
    """The language's catalogue, loaded once per process (English: the identity, English plural rules)."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return NullTranslations()
    return load_translations(language)


def _accepted(header: str) -> list[str]:
    """The language tags of an `Accept-Language` header, most preferred first (RFC 9110 §12.5.4)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:32]):
        tag, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(accept_language: str) -> str:
    """The supported language the browser prefers most (Babel's negotiation, `ru-RU` → `ru`), else English."""
    chosen = negotiate_locale(_accepted(accept_language), list(LANGUAGES), sep="-")
    return chosen.lower() if chosen else DEFAULT_LANGUAGE  # Babel hands back the header's spelling


def terminal_language() -> str:
    """The supported language of the terminal's locale (`LC_ALL`, `LC_MESSAGES`, `LANG`...), else English."""
    chosen = default_locale("LC_MESSAGES")
    if not chosen:
        return DEFAULT_LANGUAGE
    found = negotiate_locale([chosen], list(LANGUAGES), sep="_")
    return found.lower() if found else DEFAULT_LANGUAGE


def pick_language(request: Request) -> str:
    """`?lang=` when given, else the `pc_lang` cookie, else the browser's `Accept-Language`, else English."""
    for chosen in (request.query_params.get(LANG_QUERY), request.cookies.get(LANG_COOKIE)):
        if chosen in LANGUAGES:
            return str(chosen)
    return negotiate(request.headers.get("accept-language", ""))


@dataclass(frozen=True)
class Translator:
    """Gettext bound to one language; `%(name)s` placeholders are filled from keyword arguments."""

    language: str

    @property
    def catalogue(self) -> NullTranslations:
        return translations(self.language)

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def gettext(self, message: str, **values: object) -> str:
        text = self.catalogue.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = self.catalogue.ngettext(singular, plural, n)
        return text % {"num": n, **values}

    def pgettext(self, context: str, message: str) -> str:
        return str(self.catalogue.pgettext(context, message))

    def plural_forms(self, singular: str, plural: str) -> Mapping[str, str]:
        """The message for each CLDR plural category of this language (for `Intl.PluralRules` in scripts):
        each category's form is the catalogue's form for a number of that category."""
        samples = {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 5, "other": 100}
        rule = self.locale.plural_form
        forms: dict[str, str] = {}
        for category, sample in samples.items():
            if category in rule.tags or category == "other":
                number = next((n for n in range(sample, sample + 200) if rule(n) == category), None)
                if number is not None:
                    forms[category] = str(self.catalogue.ngettext(singular, plural, number))
        return forms


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext_noop name pybabel extracts
    """Mark a message for extraction; it is translated where it is shown."""
    return message
