"""`jinja2.ext.i18n` for the admin and guest templates: gettext callables that read the page's translator.

Templates use `_("…")`, `ngettext(…)` and `{% trans %}`; each render passes `translator=`. Strings that come
from data (provider and parameter titles, help texts) go through the `msg` filter, option values through
`option_label`; those are extracted from the provider schemas (see `photochanger.i18n.extract`)."""

from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from photochanger.i18n import Translator


def _translator(context: Context) -> Translator:
    translator = context.get("translator")
    if not isinstance(translator, Translator):  # pragma: no cover - every render passes one
        raise RuntimeError("render() was called without a translator")
    return translator


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translator(context).catalogue.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _translator(context).catalogue.ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, message_context: str, message: str) -> str:
    return str(_translator(context).catalogue.pgettext(message_context, message))


@pass_context
def _npgettext(context: Context, message_context: str, singular: str, plural: str, n: int) -> str:
    return _translator(context).catalogue.npgettext(message_context, singular, plural, n)


@pass_context
def _msg(context: Context, text: Any) -> str:
    """A data string (a schema title, a help text) in the page's language; never a format string."""
    return _translator(context).catalogue.gettext(str(text)) if text else ""


@pass_context
def _option_label(context: Context, value: Any) -> str:
    """The label of a schema option value (`bw_high_contrast`): its `option` translation, else readable."""
    text = str(value)
    label = str(_translator(context).catalogue.pgettext("option", text))
    return label if label != text else text.replace("_", " ")


def install(env: Environment) -> None:
    """Add the i18n extension and the gettext callables (new style: `_("%(n)s", n=1)` formats and escapes)."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    env.filters["msg"] = _msg
    env.filters["option_label"] = _option_label
