"""Audit log entries as sentences with names ("serg changed the frame of Wedding booth: Beach → Gold")
instead of ids and JSON diffs; the raw action and target stay available for filtering."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from photochanger.admin.i18n import Translator
from photochanger.models import AuditLog

# Slot fields and settings as an operator names them (message keys of `i18n_operator`).
FIELD_LABELS = {
    "display_name": "the name",
    "provider": "the provider",
    "operation": "the operation",
    "is_active": "on/off",
    "size_limit_mb": "the upload limit",
    "output_format": "the output format",
    "on_failure": "what happens on failure",
    "webhook_url": "the webhook",
    "webhook_secret": "the webhook secret",
    "frame_media_id": "the frame",
    "template_media_ids": "the reference images",
    "ingest_password": "the ingest password",
}


@dataclass(frozen=True)
class Names:
    """What ids stand for, looked up once per page."""

    slots: Mapping[str, str]
    users: Mapping[str, str]
    media: Mapping[str, str]


def _value(value: Any, names: Names, t: Translator) -> str:
    if isinstance(value, bool):
        return t("on") if value else t("off")
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
    label = FIELD_LABELS.get(key)
    if label is not None:
        return t(label)
    return key if not t.has(f"settings.{key}") else t(f"settings.{key}")


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
            parts.append(t("{what} changed", what=_label(key, t)))
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
        return t("{who} changed {slot}: {changes}", who=who, slot=slot, changes=listed or "—")
    if row.action == "settings.update":
        return t("{who} changed the settings: {changes}", who=who, changes=listed or "—")
    if row.action == "gallery.open":
        return t("{who} opened the guest gallery of {slot}", who=who, slot=slot)
    if row.action == "gallery.close":
        return t("{who} closed the guest gallery of {slot}", who=who, slot=slot)
    if row.action == "result.delete":
        return t("{who} removed a photo from {slot}", who=who, slot=slot)
    if row.action == "template_media.create":
        return t("{who} uploaded the template {name}", who=who, name=changes.get("name") or ident)
    if row.action == "template_media.delete":
        return t("{who} deleted the template {name}", who=who, name=changes.get("name") or ident)
    if row.action == "user.create":
        return t(
            "{who} created the user {user} ({role})",
            who=who,
            user=user,
            role=t(f"role.{changes.get('role')}"),
        )
    if row.action == "user.delete":
        return t("{who} deleted the user {user}", who=who, user=user)
    if row.action == "user.role":
        role = changes.get("role") or {}
        return t(
            "{who} changed the role of {user}: {old} → {new}",
            who=who,
            user=user,
            old=t(f"role.{role.get('old')}"),
            new=t(f"role.{role.get('new')}"),
        )
    if row.action == "user.active":
        active = (changes.get("is_active") or {}).get("new")
        return t(
            "{who} enabled the user {user}" if active else "{who} disabled the user {user}",
            who=who,
            user=user,
        )
    if row.action == "user.password_change":
        return t("{who} changed their password", who=who)
    if row.action == "user.password_reset":
        return t("{who} set a new password for {user}", who=who, user=user)
    return f"{who}: {row.action} {kind} {ident}".strip()
