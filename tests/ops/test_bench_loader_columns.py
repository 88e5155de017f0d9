"""The benchmark loader writes rows with COPY and names its columns: a new column that is
not null and has no database default must be among them, or the benchmarks fail on
PostgreSQL only. Checked here, on every database, in the fast part of the suite."""

from __future__ import annotations

import pytest
from django.db import models

from bench import loader
from chatdesk.accounts.models import User
from chatdesk.chats.models import Chat, Contact, Message

COPIED = [
    (Contact, loader.CONTACT_COLUMNS),
    (User, loader.USER_COLUMNS),
    (Chat, loader.CHAT_COLUMNS),
    (Message, loader.MESSAGE_COLUMNS),
]


@pytest.mark.parametrize(("model", "columns"), COPIED, ids=lambda v: getattr(v, "__name__", ""))
def test_the_loader_writes_every_column_that_needs_a_value(
    model: type[models.Model], columns: list[str]
) -> None:
    needed = {
        field.column
        for field in model._meta.concrete_fields
        if not field.null
        and field.db_default is models.NOT_PROVIDED
        and not isinstance(field, models.AutoField)
    }
    assert sorted(needed - set(columns)) == []
