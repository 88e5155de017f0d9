"""Pulling templates from Meta (the fake Graph API on loopback) and the CLI command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from chatdesk.core.errors import BadInput, Conflict, Forbidden
from chatdesk.providers.models import Channel, Template
from chatdesk.providers.template_sync import sync_templates

# alice_on_duty: autouse where these tests lived before (tests/messaging).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alice_on_duty")]


@pytest.fixture
def wa(fake_graph) -> Channel:
    return Channel.objects.create(
        kind="whatsapp",
        name="WA",
        config={
            "phone_number_id": fake_graph.phone_number_id,
            "graph_api_url": fake_graph.graph_api_url,
            "waba_id": fake_graph.waba_id,
        },
        secrets={"access_token": fake_graph.access_token},
    )


def test_sync_creates_then_updates_then_leaves_alone(wa, fake_graph, ada):
    remote = fake_graph.templates
    first = sync_templates(channel=wa, by=ada)
    assert first.created == len(remote) and first.updated == 0
    names = set(Template.objects.filter(channel=wa).values_list("name", "language"))
    assert names == {(t["name"], t["language"]) for t in remote}
    assert sync_templates(channel=wa, by=ada).unchanged == len(remote)
    fake_graph.templates[0]["status"] = "REJECTED"
    third = sync_templates(channel=wa, by=ada)
    assert third.updated == 1
    changed = Template.objects.get(
        channel=wa, name=remote[0]["name"], language=remote[0]["language"]
    )
    assert changed.status == "rejected"


def test_sync_follows_paging(wa, fake_graph, ada):
    fake_graph.page_size = 1
    result = sync_templates(channel=wa, by=ada)
    assert result.created == len(fake_graph.templates) > 1
    assert len([r for r in fake_graph.requests if r.method == "GET"]) == len(fake_graph.templates)


def test_body_text_and_category_come_from_components(wa, fake_graph, ada):
    sync_templates(channel=wa, by=ada)
    row = fake_graph.templates[0]
    body = next(c["text"] for c in row["components"] if c["type"] == "BODY")
    template = Template.objects.get(channel=wa, name=row["name"], language=row["language"])
    assert template.body == body
    assert template.category == row["category"].lower()
    assert template.provider_template_id == str(row["id"])


def test_only_admins_sync_and_only_whatsapp_channels_with_a_waba(wa, sandbox, alice, ada):
    with pytest.raises(Forbidden):
        sync_templates(channel=wa, by=alice)
    with pytest.raises(BadInput, match="Only WhatsApp"):
        sync_templates(channel=sandbox, by=ada)
    wa.config.pop("waba_id")
    wa.save()
    with pytest.raises(BadInput, match="waba_id"):
        sync_templates(channel=wa, by=ada)


def test_meta_refusing_is_a_conflict_and_nothing_changes(wa, fake_graph, ada):
    wa.secrets["access_token"] = "expired"
    wa.save()
    with pytest.raises(Conflict, match="refused"):
        sync_templates(channel=wa, by=ada)
    assert Template.objects.count() == 0


def test_cli_command_syncs_every_whatsapp_channel(wa, fake_graph, capsys):
    call_command("templates", "sync")
    out = capsys.readouterr().out
    assert f"WA: {len(fake_graph.templates)} new, 0 updated, 0 unchanged." in out
    with pytest.raises(CommandError, match="No active WhatsApp channel"):
        call_command("templates", "sync", "--channel", "999")
