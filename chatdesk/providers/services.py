"""Changes to channels and templates (the set-up): validated whole, then written at once.
(Past 400 lines: each check is a small function with its own sentence, shared by the API
and the set-up pages; channels and templates split into a package when either grows.)"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final
from urllib.parse import urlsplit

import phonenumbers
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from chatdesk.accounts.models import User
from chatdesk.core.errors import BadInput, Conflict
from chatdesk.providers import access
from chatdesk.providers.models import (
    DEFAULT_END_KEYWORD,
    DEFAULT_NOBODY_AVAILABLE_REPLY,
    DEFAULT_OUT_OF_HOURS_REPLY,
    DEFAULT_QUEUE_REPLY,
    MAX_SEND_RATE,
    MIN_SEND_RATE,
    Channel,
    ChannelKind,
    Template,
    TemplateCategory,
    TemplateStatus,
    default_send_rate,
)
from chatdesk.providers.queries import (
    SANDBOX_WINDOW_MODES,
    config_label,
    config_spec,
    public_config,
)
from chatdesk.routing.models import Department

MAX_REPLY_LENGTH = 4096
MAX_CONFIG_VALUE_LENGTH = 4096
MAX_TEMPLATE_BODY = 1024  # Meta's limit for a template's body
URL_KEYS = frozenset({"graph_api_url", "api_url"})
TEMPLATE_NAME = re.compile(r"[a-z0-9_]+")
TEMPLATE_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z]{2,4})?")
BRACES = re.compile(r"\{\{(.*?)\}\}")
NUMBER = re.compile(r"\s*([0-9]+)\s*")
META_ID_KEYS = frozenset({"phone_number_id", "waba_id"})
META_ID = re.compile(r"[0-9]{1,32}")


class Keep(Enum):
    """'Leave as is', for a field where None already means something (no department)."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _kind_label(kind: str) -> str:
    return str(ChannelKind(kind).label)


def _a(kind: str, *, start: bool = False) -> str:
    """'a WhatsApp', 'an SMS': the article goes by how the label is said."""
    label = _kind_label(kind)
    article = "an" if label[0] in "AEIOU" or label == "SMS" else "a"
    return f"{article.title() if start else article} {label}"


# Channels


def _check_kind(kind: str) -> str:
    if kind not in ChannelKind.values:
        raise BadInput(f"A channel's kind must be one of {', '.join(ChannelKind.values)}.")
    return kind


def _check_channel_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadInput("A channel needs a name.")
    if len(name) > 100:
        raise BadInput("A channel's name can be at most 100 characters.")
    return name


def _check_reply(what: str, text: str) -> str:
    text = text.strip()
    if len(text) > MAX_REPLY_LENGTH:
        raise BadInput(f"The {what} can be at most {MAX_REPLY_LENGTH} characters.")
    return text


def _check_end_keyword(keyword: str) -> str:
    keyword = keyword.strip()
    if len(keyword) > 32:
        raise BadInput("The end keyword can be at most 32 characters.")
    return keyword


def _check_send_rate(rate: int) -> int:
    if isinstance(rate, bool) or not isinstance(rate, int):
        raise BadInput("A channel's send rate must be a whole number of messages per second.")
    if not MIN_SEND_RATE <= rate <= MAX_SEND_RATE:
        raise BadInput(
            f"A channel's send rate must be from {MIN_SEND_RATE} to {MAX_SEND_RATE} messages "
            f"per second; got {rate}."
        )
    return rate


def _refuse_duplicate_channel(name: str, *, besides: int | None = None) -> None:
    """Names are told apart ignoring case, as the index on Lower(name) does."""
    twins = Channel.objects.annotate(lowered=Lower("name")).filter(lowered=name.lower())
    if besides is not None:
        twins = twins.exclude(pk=besides)
    if twins.exists():
        raise Conflict(f"A channel named {name!r} already exists; give this one another name.")


def _save_channel(channel: Channel) -> None:
    _refuse_duplicate_channel(channel.name, besides=channel.pk)
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:  # the same name taken at the same moment
        raise Conflict(
            f"A channel named {channel.name!r} already exists; give this one another name."
        ) from exc


def _department(department_id: int | None) -> Department | None:
    if department_id is None:
        return None
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise BadInput(f"No department has the id {department_id}.")
    return department


def _check_url(key: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise BadInput(f"config.{key} must be an http:// or https:// URL; got {value!r}.")
    return value.rstrip("/")


def _check_e164(key: str, value: str) -> str:
    example = "such as +14155552671"
    if not value.startswith("+"):
        raise BadInput(f"config.{key} must be a phone number in E.164 form, {example}.")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise BadInput(f"config.{key} must be a phone number in E.164 form, {example}.") from exc
    if not phonenumbers.is_valid_number(number):
        raise BadInput(f"config.{key} is not a valid phone number; got {value!r}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_meta_id(key: str, value: str) -> str:
    if not META_ID.fullmatch(value):
        raise BadInput(
            f"The {config_label(key)} (config.{key}) is Meta's id for it, digits only, such "
            f"as 106540352242922; got {value!r}. Copy it from Meta's app dashboard "
            "(WhatsApp → API Setup); it is not the phone number itself."
        )
    return value


def _require_secrets_if_active(kind: str, secrets: Mapping[str, str], *, active: bool) -> None:
    """A channel may be saved without its secrets, but only inactive: an active one
    without them would refuse every webhook and fail every send."""
    spec = config_spec(kind)
    missing = [key for key in spec.required if key in spec.secrets and not secrets.get(key)]
    if active and missing:
        labels = [config_label(key) for key in missing]
        raise BadInput(
            f"{_a(kind, start=True)} channel cannot be active without its {_and(labels)}: "
            f"set {'them' if len(missing) > 1 else 'it'}, or save the channel inactive."
        )


def _checked_config(
    kind: str, given: Mapping[str, object], current: Mapping[str, str] | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Merge ``given`` over ``current`` (a null or empty value drops a key), check the
    result against the kind's spec, and split it into (config, secrets)."""
    spec = config_spec(kind)
    a_kind = _a(kind, start=True)
    unknown = sorted(str(key) for key in given if key not in spec.keys)
    if unknown and not spec.keys:
        raise BadInput(f"{a_kind} channel takes no config; remove {_and(unknown)}.")
    if unknown:
        raise BadInput(
            f"{a_kind} channel's config does not take {_and(unknown)}; "
            f"it takes {_and(list(spec.keys))}."
        )
    merged = dict(current or {})
    for key, value in given.items():
        if value is None or value == "":
            merged.pop(key, None)
            continue
        if not isinstance(value, str):
            raise BadInput(f"config.{key} must be a string.")
        if len(value) > MAX_CONFIG_VALUE_LENGTH:
            raise BadInput(f"config.{key} can be at most {MAX_CONFIG_VALUE_LENGTH} characters.")
        merged[key] = value.strip()
    for key, default in spec.defaults.items():
        merged.setdefault(key, default)
    missing = [key for key in spec.required if key not in spec.secrets and not merged.get(key)]
    if missing:
        raise BadInput(f"{a_kind} channel's config needs {_and(missing)}.")
    for key in URL_KEYS & merged.keys():
        merged[key] = _check_url(key, merged[key])
    if "from_number" in merged:
        merged["from_number"] = _check_e164("from_number", merged["from_number"])
    window = merged.get("contact_window")
    if window is not None and window not in SANDBOX_WINDOW_MODES:
        raise BadInput(
            "config.contact_window can only be 'whatsapp' (keep WhatsApp's 24-hour contact "
            f"window) or empty (no window); got {window!r}."
        )
    for key in META_ID_KEYS & merged.keys():
        merged[key] = _check_meta_id(key, merged[key])
    config = {k: v for k, v in merged.items() if k not in spec.secrets}
    secrets = {k: v for k, v in merged.items() if k in spec.secrets}
    return config, secrets


def create_channel(
    *,
    kind: str,
    name: str,
    department_id: int | None = None,
    out_of_hours_reply: str | None = None,
    queue_reply: str | None = None,
    end_keyword: str | None = None,
    config: Mapping[str, object] | None = None,
    send_rate: int | None = None,
    is_active: bool = True,
    nobody_available_reply: str | None = None,
    by: User | None,
) -> Channel:
    """Add one of our numbers. Secrets go to ``Channel.secrets``, the rest to ``config``;
    with no ``send_rate``, the desk's default (CHATDESK_SEND_RATE)."""
    if by is not None:
        access.require_admin(by)
    kind = _check_kind(kind)
    channel = Channel(
        kind=kind,
        name=_check_channel_name(name),
        out_of_hours_reply=_check_reply(
            "out-of-hours reply",
            DEFAULT_OUT_OF_HOURS_REPLY if out_of_hours_reply is None else out_of_hours_reply,
        ),
        queue_reply=_check_reply(
            "queue reply", DEFAULT_QUEUE_REPLY if queue_reply is None else queue_reply
        ),
        nobody_available_reply=_check_reply(
            "nobody-available reply",
            DEFAULT_NOBODY_AVAILABLE_REPLY
            if nobody_available_reply is None
            else nobody_available_reply,
        ),
        end_keyword=_check_end_keyword(DEFAULT_END_KEYWORD if end_keyword is None else end_keyword),
        send_rate=_check_send_rate(default_send_rate() if send_rate is None else send_rate),
        is_active=is_active,
    )
    channel.config, channel.secrets = _checked_config(kind, config or {})
    _require_secrets_if_active(kind, channel.secrets, active=is_active)
    with transaction.atomic():
        channel.department = _department(department_id)
        _save_channel(channel)
    return channel


@dataclass(frozen=True)
class ChannelChanges:
    """What a PATCH may change; None (or KEEP) means 'leave as is'. ``config`` is merged
    key by key into the stored one, secrets included, so a secret can be replaced without
    sending the others again; a null value drops an optional key."""

    kind: str | None = None
    name: str | None = None
    department_id: int | Keep | None = KEEP
    out_of_hours_reply: str | None = None
    queue_reply: str | None = None
    end_keyword: str | None = None
    config: Mapping[str, object] | None = None
    is_active: bool | None = None
    send_rate: int | None = None
    nobody_available_reply: str | None = None


def update_channel(*, channel: Channel, changes: ChannelChanges, by: User | None) -> Channel:
    if by is not None:
        access.require_admin(by)
    if changes.kind is not None and changes.kind != channel.kind:
        raise BadInput(
            f"A channel's kind cannot change (this one is {channel.kind}); add a new channel."
        )
    name = _check_channel_name(changes.name) if changes.name is not None else None
    out_of_hours_reply = (
        _check_reply("out-of-hours reply", changes.out_of_hours_reply)
        if changes.out_of_hours_reply is not None
        else None
    )
    queue_reply = (
        _check_reply("queue reply", changes.queue_reply)
        if changes.queue_reply is not None
        else None
    )
    nobody_available_reply = (
        _check_reply("nobody-available reply", changes.nobody_available_reply)
        if changes.nobody_available_reply is not None
        else None
    )
    end_keyword = (
        _check_end_keyword(changes.end_keyword) if changes.end_keyword is not None else None
    )
    send_rate = _check_send_rate(changes.send_rate) if changes.send_rate is not None else None
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        if changes.department_id is not KEEP:
            locked.department = _department(changes.department_id)
        if changes.config is not None:
            spec = config_spec(locked.kind)
            stored_secrets = locked.secrets if isinstance(locked.secrets, dict) else {}
            current = {
                **public_config(locked),
                **{k: str(v) for k, v in stored_secrets.items() if k in spec.secrets and v},
            }
            locked.config, locked.secrets = _checked_config(locked.kind, changes.config, current)
        if name is not None:
            locked.name = name
        if out_of_hours_reply is not None:
            locked.out_of_hours_reply = out_of_hours_reply
        if queue_reply is not None:
            locked.queue_reply = queue_reply
        if nobody_available_reply is not None:
            locked.nobody_available_reply = nobody_available_reply
        if end_keyword is not None:
            locked.end_keyword = end_keyword
        if changes.is_active is not None:
            locked.is_active = changes.is_active
        if send_rate is not None:
            locked.send_rate = send_rate
        if changes.is_active or changes.config is not None:
            # Made active, or its secrets changed: it must have them all (a change of
            # name alone leaves an older channel as it is; the set-up pages warn of it).
            stored_secrets = locked.secrets if isinstance(locked.secrets, dict) else {}
            _require_secrets_if_active(locked.kind, stored_secrets, active=locked.is_active)
        _save_channel(locked)
    return locked


# Templates


def _check_template_name(name: str) -> str:
    name = name.strip()
    if not TEMPLATE_NAME.fullmatch(name):
        raise BadInput(
            "A template's name may only use lowercase letters, digits and underscores "
            f"(such as order_update); got {name!r}."
        )
    if len(name) > 512:
        raise BadInput("A template's name can be at most 512 characters.")
    return name


def _check_language(language: str) -> str:
    language = language.strip()
    if not TEMPLATE_LANGUAGE.fullmatch(language):
        raise BadInput(
            f"A template's language must be a code such as en or en_US; got {language!r}."
        )
    return language


def _check_category(category: str) -> str:
    if category not in TemplateCategory.values:
        raise BadInput(
            f"A template's category must be one of {', '.join(TemplateCategory.values)}."
        )
    return category


def _check_status(status: str) -> str:
    if status not in TemplateStatus.values:
        raise BadInput(f"A template's status must be one of {', '.join(TemplateStatus.values)}.")
    return status


def _check_body(body: str) -> str:
    if not body.strip():
        raise BadInput("A template needs a body.")
    if len(body) > MAX_TEMPLATE_BODY:
        raise BadInput(
            f"A template's body can be at most {MAX_TEMPLATE_BODY} characters; "
            f"this one has {len(body)}."
        )
    numbers: set[int] = set()
    for inside in BRACES.findall(body):
        match = NUMBER.fullmatch(inside)
        if match is None:
            raise BadInput(
                "A template's placeholders are numbers such as {{1}}; "
                f"{{{{{inside}}}}} is not one."
            )
        numbers.add(int(match.group(1)))
    ordered = sorted(numbers)
    if ordered != list(range(1, len(ordered) + 1)):
        found = ", ".join(f"{{{{{n}}}}}" for n in ordered)
        raise BadInput(
            "A template's placeholders must be numbered from {{1}} up with none skipped; "
            f"this body has {found}."
        )
    return body


def _template_channel(channel_id: int) -> Channel:
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise BadInput(f"No channel has the id {channel_id}.")
    if channel.kind not in (ChannelKind.WHATSAPP, ChannelKind.SANDBOX):
        raise BadInput(
            f"Templates are for WhatsApp (and sandbox) channels; {channel.name!r} is "
            f"{_a(channel.kind)} channel."
        )
    return channel


def _refuse_duplicate(template: Template) -> None:
    twins = Template.objects.filter(
        channel_id=template.channel_id, name=template.name, language=template.language
    ).exclude(pk=template.pk)
    if twins.exists():
        raise Conflict(
            f"The channel already has a template named {template.name!r} in {template.language}."
        )


def _save_template(template: Template) -> None:
    _refuse_duplicate(template)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:  # the same template added at the same moment
        raise Conflict(
            f"The channel already has a template named {template.name!r} in {template.language}."
        ) from exc


def create_template(
    *,
    channel_id: int,
    name: str,
    body: str,
    language: str = "en_US",
    category: str = TemplateCategory.UTILITY,
    status: str = TemplateStatus.PENDING,
    by: User | None,
) -> Template:
    """Record a WhatsApp template (approved in Meta's manager) so agents can send it."""
    if by is not None:
        access.require_admin(by)
    template = Template(
        name=_check_template_name(name),
        language=_check_language(language),
        category=_check_category(category),
        body=_check_body(body),
        status=_check_status(status),
    )
    with transaction.atomic():
        template.channel = _template_channel(channel_id)
        _save_template(template)
    return template


@dataclass(frozen=True)
class TemplateChanges:
    """What a PATCH may change; None means 'leave as is'."""

    channel_id: int | None = None
    name: str | None = None
    language: str | None = None
    category: str | None = None
    body: str | None = None
    status: str | None = None


def update_template(*, template: Template, changes: TemplateChanges, by: User | None) -> Template:
    if by is not None:
        access.require_admin(by)
    name = _check_template_name(changes.name) if changes.name is not None else None
    language = _check_language(changes.language) if changes.language is not None else None
    category = _check_category(changes.category) if changes.category is not None else None
    body = _check_body(changes.body) if changes.body is not None else None
    status = _check_status(changes.status) if changes.status is not None else None
    with transaction.atomic():
        locked = Template.objects.select_for_update().get(pk=template.pk)
        if changes.channel_id is not None:
            locked.channel = _template_channel(changes.channel_id)
        if name is not None:
            locked.name = name
        if language is not None:
            locked.language = language
        if category is not None:
            locked.category = category
        if body is not None:
            locked.body = body
        if status is not None:
            locked.status = status
        _save_template(locked)
    return locked
