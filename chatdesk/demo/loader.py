"""Demo data for trying the desk: ``chatdesk demo`` and ``chatdesk run --demo``.

Idempotent by natural keys: usernames, department names, the channel's name, a template's
name and language, a contact's phone. What already exists is left as it is (passwords
included), and the sample chats are seeded only while the demo channel has no chats.
Everything happens in one transaction, with timestamps relative to now. The set-up
(people, departments, the channel, templates, hours, contacts) is written by the same
services as the API and the set-up pages; the sample chats are history (see
``demo.chats``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from django.db import transaction

from chatdesk.accounts.models import Presence, Role, User
from chatdesk.chats.models import Contact
from chatdesk.chats.services.contacts import upsert_contact
from chatdesk.core import clock
from chatdesk.demo.chats import seed_sample_chats
from chatdesk.flows.people import create_user
from chatdesk.flows.presence import set_presence
from chatdesk.providers.models import (
    Channel,
    ChannelKind,
    Template,
    TemplateCategory,
    TemplateStatus,
)
from chatdesk.providers.services import create_channel, create_template
from chatdesk.routing.models import BusinessHours, Department
from chatdesk.routing.services import (
    DatedHours,
    Interval,
    create_department,
    set_business_hours,
)

DEMO_CHANNEL_NAME = "Demo sandbox"
DEMO_TIMEZONE = "Africa/Johannesburg"
TEMPLATE_LANGUAGE = "en"

DEPARTMENTS = {
    "Sales": "New customers, upgrades and quotes.",
    "Support": "Orders, billing and technical help.",
}

AGENT_PASSWORD = "demo-agent-pass"
SUPERVISOR_PASSWORD = "demo-supervisor-pass"
ADMIN_PASSWORD = "demo-admin-pass"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    password: str
    departments: tuple[str, ...] = ()


USERS = (
    DemoUser("thandi", "Thandi Nkosi", Role.AGENT, AGENT_PASSWORD, ("Sales",)),
    DemoUser("pieter", "Pieter van Wyk", Role.AGENT, AGENT_PASSWORD, ("Sales",)),
    DemoUser("aisha", "Aisha Patel", Role.AGENT, AGENT_PASSWORD, ("Support",)),
    DemoUser("james", "James Mokoena", Role.AGENT, AGENT_PASSWORD, ("Support",)),
    DemoUser("naledi", "Naledi Dlamini", Role.SUPERVISOR, SUPERVISOR_PASSWORD),
    DemoUser("grace", "Grace Botha", Role.ADMIN, ADMIN_PASSWORD),
)

CONTACTS = {
    "lerato": ("+27825550101", "Lerato Mahlangu"),
    "sipho": ("+27835550102", "Sipho Zulu"),
    "emma": ("+27845550103", "Emma Jacobs"),
    "kagiso": ("+27725550104", "Kagiso Molefe"),
    "fatima": ("+27735550105", "Fatima Khan"),
    "johan": ("+27765550106", "Johan Pretorius"),
    "zanele": ("+27795550107", "Zanele Khumalo"),
    "david": ("+27815550108", "David Naidoo"),
    "nomsa": ("+27605550109", "Nomsa Sithole"),
}


@dataclass(frozen=True)
class DemoTemplate:
    name: str
    category: str
    status: str
    body: str


TEMPLATES = (
    DemoTemplate(
        "order_update",
        TemplateCategory.UTILITY,
        TemplateStatus.APPROVED,
        "Hi {{1}}, your order {{2}} is now {{3}}. Reply to this message if you need help.",
    ),
    DemoTemplate(
        "appointment_reminder",
        TemplateCategory.UTILITY,
        TemplateStatus.APPROVED,
        "Hi {{1}}, this is a reminder of your appointment on {{2}} at {{3}}. Reply YES to confirm.",
    ),
    DemoTemplate(
        "spring_promotion",
        TemplateCategory.MARKETING,
        TemplateStatus.PENDING,
        "Hi {{1}}, spring is here: take {{2}}% off any fibre upgrade this month.",
    ),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    password: str
    display_name: str
    departments: tuple[str, ...]
    created: bool


@dataclass(frozen=True)
class DemoSummary:
    """What the demo desk holds, and what this run added to it."""

    departments: list[str]
    logins: list[DemoLogin]
    channel_id: int
    channel_name: str
    templates: int
    contacts: int
    chats: int
    # What this run added, by kind ("user": 6); empty when everything was there.
    created: dict[str, int] = field(default_factory=dict)


def load_demo() -> DemoSummary:
    """Load the demo desk, or complete it; running it again changes nothing."""
    created: Counter[str] = Counter()
    with transaction.atomic():
        departments = _departments(created)
        users, logins = _users(departments, created)
        channel = _channel(created)
        templates = _templates(channel, created)
        contacts = _contacts(created)
        _business_hours(created)
        if not channel.chats.exists():
            seed_sample_chats(
                channel=channel,
                departments=departments,
                users=users,
                contacts=contacts,
                templates=templates,
            )
            created["sample chat"] = channel.chats.count()
        chats = channel.chats.count()
    return DemoSummary(
        departments=list(departments),
        logins=logins,
        channel_id=channel.pk,
        channel_name=channel.name,
        templates=len(templates),
        contacts=len(contacts),
        chats=chats,
        created=dict(+created),
    )


def describe(summary: DemoSummary) -> str:
    """The lines ``chatdesk demo`` and ``chatdesk run --demo`` print: what exists, and
    how to sign in."""
    lines = [
        (
            "Demo desk: departments "
            + ", ".join(summary.departments)
            + f"; sandbox channel {summary.channel_name!r}; {summary.templates} templates; "
            + f"{summary.contacts} contacts; {summary.chats} chats."
        ),
        (
            "Added now: "
            + ", ".join(f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in summary.created.items())
            + "."
            if summary.created
            else "Nothing to add: the demo data was already there."
        ),
        "Demo logins (passwords as the demo first set them; for trying the desk only):",
    ]
    rows = [("username", "role", "password", "name")] + [
        (
            login.username,
            login.role,
            login.password,
            login.display_name
            + (f" ({', '.join(login.departments)})" if login.departments else ""),
        )
        for login in summary.logins
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        lines.append(
            "  "
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[3]
        )
    return "\n".join(lines)


def _departments(created: Counter[str]) -> dict[str, Department]:
    found: dict[str, Department] = {}
    for name, description in DEPARTMENTS.items():
        department = Department.objects.filter(name__iexact=name).first()
        if department is None:
            department = create_department(name=name, description=description, by=None)
            created["department"] += 1
        found[name] = department
    return found


def _users(
    departments: dict[str, Department], created: Counter[str]
) -> tuple[dict[str, User], list[DemoLogin]]:
    users: dict[str, User] = {}
    logins: list[DemoLogin] = []
    for spec in USERS:
        user = User.objects.filter(username__iexact=spec.username).first()
        is_new = user is None
        if user is None:
            user = create_user(
                username=spec.username,
                password=spec.password,
                role=spec.role,
                display_name=spec.display_name,
                department_ids=[departments[name].pk for name in spec.departments],
            )
            if user.role == Role.AGENT:
                # Demo agents take chats as soon as they sign in (their page goes online).
                user = set_presence(user=user, status=Presence.AVAILABLE)
            created["user"] += 1
        users[spec.username] = user
        logins.append(
            DemoLogin(
                username=user.username,
                role=user.role,
                password=spec.password,
                display_name=user.display_name,
                departments=spec.departments,
                created=is_new,
            )
        )
    return users, logins


def _channel(created: Counter[str]) -> Channel:
    channel = Channel.objects.filter(kind=ChannelKind.SANDBOX, name=DEMO_CHANNEL_NAME).first()
    if channel is None:
        channel = create_channel(kind=ChannelKind.SANDBOX, name=DEMO_CHANNEL_NAME, by=None)
        created["channel"] += 1
    return channel


def _templates(channel: Channel, created: Counter[str]) -> dict[str, Template]:
    found: dict[str, Template] = {}
    for spec in TEMPLATES:
        template = Template.objects.filter(
            channel=channel, name=spec.name, language=TEMPLATE_LANGUAGE
        ).first()
        if template is None:
            template = create_template(
                channel_id=channel.pk,
                name=spec.name,
                body=spec.body,
                language=TEMPLATE_LANGUAGE,
                category=spec.category,
                status=spec.status,
                by=None,
            )
            created["template"] += 1
        found[spec.name] = template
    return found


def _contacts(created: Counter[str]) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    for key, (phone, name) in CONTACTS.items():
        contact = Contact.objects.filter(phone=phone).first()
        if contact is None:
            contact = upsert_contact(phone=phone, name=name)
            created["contact"] += 1
        found[key] = contact
    return found


def _business_hours(created: Counter[str]) -> None:
    """The desk's hours, Monday to Friday 08:00 to 17:00, and the coming Christmas. Set
    once and never overwritten, so an admin's own schedule survives another demo run."""
    if BusinessHours.objects.filter(department__isnull=True).exists():
        return
    today = clock.now().date()
    christmas = date(today.year, 12, 25)
    if christmas < today:
        christmas = date(today.year + 1, 12, 25)
    set_business_hours(
        department=None,
        timezone=DEMO_TIMEZONE,
        weekly=[Interval(day=day, start=time(8), end=time(17)) for day in range(5)],
        exceptions=[
            DatedHours(
                date=christmas - timedelta(days=1), closed=False, start=time(8), end=time(12)
            ),
            DatedHours(date=christmas, closed=True),
        ],
        by=None,
    )
    created["business hours schedule"] += 1
