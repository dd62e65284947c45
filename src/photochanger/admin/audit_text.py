"""Audit log entries as sentences with names ("serg changed the frame of Wedding booth: Beach → Gold")
instead of ids and JSON diffs; the raw action and target stay available for filtering."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from photochanger.i18n import N_, Translator
from photochanger.models import AuditLog

# Slot fields and settings as an operator names them.
FIELD_LABELS = {
    "display_name": N_("the name"),
    "provider": N_("the provider"),
    "operation": N_("the operation"),
    "is_active": N_("on/off"),
    "size_limit_mb": N_("the upload limit"),
    "output_format": N_("the output format"),
    "on_failure": N_("what happens on failure"),
    "webhook_url": N_("the webhook"),
    "webhook_secret": N_("the webhook secret"),
    "frame_media_id": N_("the frame"),
    "template_media_ids": N_("the reference images"),
    "ingest_password": N_("the ingest password"),
}
# The runtime settings, named as on the Settings page.
SETTING_LABELS = {
    "t_sync_response_seconds": N_("How long the booth waits for the photo (seconds)"),
    "result_ttl_hours": N_("How long results can be downloaded (hours)"),
    "slot_concurrency": N_("Jobs per slot at once"),
    "provider_concurrency": N_("Jobs per provider at once"),
    "global_concurrency": N_("Jobs on the server at once"),
    "upload_max_mb": N_("Largest photo accepted (MiB)"),
}
ROLE_LABELS = {"admin": N_("admin"), "operator": N_("operator")}


@dataclass(frozen=True)
class Names:
    """What ids stand for, looked up once per page."""

    slots: Mapping[str, str]
    users: Mapping[str, str]
    media: Mapping[str, str]


def _value(value: Any, names: Names, t: Translator) -> str:
    if isinstance(value, bool):
        return t.gettext("on") if value else t.gettext("off")
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(_value(item, names, t) for item in value)
    if isinstance(value, str) and value in names.media:
        return names.media[value]
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v, names, t)}" for k, v in sorted(value.items()))
    return str(value)


def _label(key: str, t: Translator) -> str:
    label = FIELD_LABELS.get(key) or SETTING_LABELS.get(key)
    return t.gettext(label) if label is not None else key


def _role(role: object, t: Translator) -> str:
    label = ROLE_LABELS.get(str(role))
    return t.gettext(label) if label is not None else str(role)


def _changes(changes: Mapping[str, Any], names: Names, t: Translator) -> list[str]:
    """`label: old → new` per changed field; slot parameters are listed one by one."""
    parts: list[str] = []
    for key, change in sorted(changes.items()):
        if not isinstance(change, Mapping) or "new" not in change:
            continue
        old, new = change.get("old"), change.get("new")
        if key == "params" and isinstance(old, Mapping | None) and isinstance(new, Mapping):
            before = old or {}
            for name in sorted(set(before) | set(new)):
                if before.get(name) != new.get(name):
                    parts.append(
                        f"{_label(name, t)}: {_value(before.get(name), names, t)} → {_value(new.get(name), names, t)}"
                    )
            continue
        if key in ("webhook_secret", "ingest_password"):
            parts.append(t.gettext("%(what)s changed", what=_label(key, t)))
            continue
        parts.append(f"{_label(key, t)}: {_value(old, names, t)} → {_value(new, names, t)}")
    return parts


def sentence(row: AuditLog, names: Names, t: Translator) -> str:
    """One entry in words, in the page's language."""
    kind, _, ident = row.target.partition(":")
    changes: Mapping[str, Any] = row.changes or {}
    slot = names.slots.get(ident, ident)
    user = names.users.get(ident) or str(changes.get("username") or ident)
    who = row.actor
    listed = "; ".join(_changes(changes, names, t))
    if row.action == "slot.update":
        return t.gettext("%(who)s changed %(slot)s: %(changes)s", who=who, slot=slot, changes=listed or "—")
    if row.action == "settings.update":
        return t.gettext("%(who)s changed the settings: %(changes)s", who=who, changes=listed or "—")
    if row.action == "gallery.open":
        return t.gettext("%(who)s opened the guest gallery of %(slot)s", who=who, slot=slot)
    if row.action == "gallery.close":
        return t.gettext("%(who)s closed the guest gallery of %(slot)s", who=who, slot=slot)
    if row.action == "result.delete":
        return t.gettext("%(who)s removed a photo from %(slot)s", who=who, slot=slot)
    if row.action == "template_media.create":
        return t.gettext("%(who)s uploaded the template %(name)s", who=who, name=changes.get("name") or ident)
    if row.action == "template_media.delete":
        return t.gettext("%(who)s deleted the template %(name)s", who=who, name=changes.get("name") or ident)
    if row.action == "user.create":
        return t.gettext(
            "%(who)s created the user %(user)s (%(role)s)",
            who=who,
            user=user,
            role=_role(changes.get("role"), t),
        )
    if row.action == "user.delete":
        return t.gettext("%(who)s deleted the user %(user)s", who=who, user=user)
    if row.action == "user.role":
        role = changes.get("role") or {}
        return t.gettext(
            "%(who)s changed the role of %(user)s: %(old)s → %(new)s",
            who=who,
            user=user,
            old=_role(role.get("old"), t),
            new=_role(role.get("new"), t),
        )
    if row.action == "user.active":
        active = (changes.get("is_active") or {}).get("new")
        if active:
            return t.gettext("%(who)s enabled the user %(user)s", who=who, user=user)
        return t.gettext("%(who)s disabled the user %(user)s", who=who, user=user)
    if row.action == "user.password_change":
        return t.gettext("%(who)s changed their password", who=who)
    if row.action == "user.password_reset":
        return t.gettext("%(who)s set a new password for %(user)s", who=who, user=user)
    return f"{who}: {row.action} {kind} {ident}".strip()


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit page: the sentence, with the raw action and target for filtering."""

    created_at: datetime
    actor: str
    action: str
    target: str
    sentence: str


def entries(rows: Iterable[AuditLog], names: Names, t: Translator) -> list[AuditEntry]:
    return [
        AuditEntry(row.created_at, row.actor, row.action, row.target, sentence(row, names, t)) for row in rows
    ]
