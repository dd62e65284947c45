"""Language negotiation (Babel), the catalogue compiled on first use, and the translator's formatting."""

import os
import shutil
from pathlib import Path

import pytest
from starlette.requests import Request

from photochanger.i18n import (
    LOCALE_DIR,
    Translator,
    load_translations,
    negotiate,
    pick_language,
    terminal_language,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("en-GB,en;q=0.9,ru;q=0.8", "en"),
        ("de-DE,de;q=0.9,ru;q=0.5,en;q=0.4", "ru"),  # the best supported one, not the first listed
        ("en;q=0.2, ru;q=0.8", "ru"),  # quality beats order
        ("ru;q=0, en", "en"),  # q=0 means "not this one"
        ("fr, *", "en"),
        ("", "en"),
        ("ru;q=abc", "en"),  # a malformed quality counts as 0
        ("RU", "ru"),
    ],
)
def test_negotiation_follows_accept_language(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def _request(query: str = "", cookie: str = "", accept: str = "") -> Request:
    headers = [(b"accept-language", accept.encode()), (b"cookie", cookie.encode())]
    return Request(
        {"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": headers}
    )


def test_query_beats_cookie_beats_browser_and_unknown_values_are_ignored() -> None:
    assert pick_language(_request("lang=en", "pc_lang=ru", "ru")) == "en"
    assert pick_language(_request("", "pc_lang=ru", "en")) == "ru"
    assert pick_language(_request("lang=xx", "pc_lang=de", "ru")) == "ru"


def test_terminal_language_reads_the_locale_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert terminal_language() == "ru"
    monkeypatch.setenv("LC_ALL", "C")
    assert terminal_language() == "en"


def test_a_missing_or_stale_mo_is_compiled_from_the_po(tmp_path: Path) -> None:
    target = tmp_path / "ru" / "LC_MESSAGES"
    target.mkdir(parents=True)
    po = target / "messages.po"
    shutil.copy(LOCALE_DIR / "ru" / "LC_MESSAGES" / "messages.po", po)
    mo = target / "messages.mo"
    assert not mo.exists()
    assert load_translations("ru", tmp_path).gettext("Slots") == "Слоты"
    assert mo.is_file()

    # Edit the .po after the .mo was built: the next load recompiles.
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgstr "Слоты"', 'msgstr "Ячейки"'), encoding="utf-8"
    )
    os.utime(mo, (1, 1))
    assert load_translations("ru", tmp_path).gettext("Slots") == "Ячейки"

    # The .mo cannot be written (here: a directory stands in its way): compiled in memory all the same.
    mo.unlink()
    mo.mkdir()
    assert load_translations("ru", tmp_path).gettext("Slots") == "Ячейки"
    assert mo.is_dir()


def test_translator_formats_placeholders_and_plurals() -> None:
    ru, en = Translator("ru"), Translator("en")
    assert ru.gettext("Slot %(slot)s", slot="slot-003") == "Слот slot-003"
    assert en.gettext("Slot %(slot)s", slot="slot-003") == "Slot slot-003"
    assert en.ngettext("failure", "failures", 1) == "failure"
    assert en.ngettext("failure", "failures", 0) == "failures"
    assert en.plural_forms("failure", "failures") == {"one": "failure", "other": "failures"}
    # A message no catalogue knows is shown as written.
    assert ru.gettext("Not in any catalogue") == "Not in any catalogue"
