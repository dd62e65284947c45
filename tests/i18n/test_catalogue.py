# ruff: noqa: RUF001
"""The Russian catalogue is complete and current: every message `pybabel extract` finds (babel.cfg, as
`make messages` runs it) has a Russian translation that is not fuzzy, nothing in the catalogue is left
over from strings that no longer exist, and placeholders match. Fix a failure with `make messages`, then
translate the entries it lists in src/photochanger/locale/ru/LC_MESSAGES/messages.po."""

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from photochanger.i18n import LOCALE_DIR, Translator

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "N_": None,
}


def extracted() -> Catalog:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def russian() -> Catalog:
    with (LOCALE_DIR / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale="ru")


def _key(message_id: object, context: str | None) -> tuple[str | None, str]:
    text = message_id[0] if isinstance(message_id, tuple | list) else str(message_id)
    return context, text


def test_every_extracted_message_has_a_current_russian_translation() -> None:
    source, ru = extracted(), russian()
    wanted = {_key(m.id, m.context): m for m in source if m.id}
    have = {_key(m.id, m.context): m for m in ru if m.id}
    assert len(wanted) > 300  # the templates, the Python sources and the provider schemas were all read

    missing = sorted(str(k) for k in wanted if k not in have)
    assert not missing, f"not in ru/messages.po (run `make messages`): {missing}"
    untranslated = sorted(
        str(k)
        for k, m in have.items()
        if k in wanted and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    )
    assert not untranslated, f"no Russian translation: {untranslated}"
    fuzzy = sorted(str(k) for k, m in have.items() if m.fuzzy)
    assert not fuzzy, f"fuzzy (stale) translations: {fuzzy}"
    leftover = sorted(str(k) for k in have if k not in wanted)
    assert not leftover, f"translations of strings no longer in the code (run `make messages`): {leftover}"
    assert not ru.obsolete, f"obsolete entries: {list(ru.obsolete)}"
    plural_kinds = {isinstance(m.id, tuple) for m in source if m.id and _key(m.id, m.context) in have}
    assert plural_kinds == {True, False}


def test_translations_keep_their_placeholders() -> None:
    problems = [(message.id, [str(e) for e in errors]) for message, errors in russian().check() if errors]
    assert not problems


def test_provider_parameter_strings_are_extracted_and_translated() -> None:
    source = extracted()
    assert source.get("Background colour") is not None  # a parameter title of the local frame operation
    assert source.get("cover", context="option") is not None  # an option value
    assert source.get("Turbotext") is not None  # a provider title
    assert source.get("Too many photos in progress") is not None  # a problem title
    ru = Translator("ru")
    assert ru.gettext("Background colour") == "Цвет фона"
    assert ru.pgettext("option", "bw_high_contrast") == "контрастное ч/б"
