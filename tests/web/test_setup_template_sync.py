"""The set-up pages' "Sync WhatsApp templates from Meta" action on channels."""

from __future__ import annotations

import pytest

from chatdesk.providers.models import Channel, Template

pytestmark = pytest.mark.django_db


def test_admin_syncs_templates_from_the_channel_list(client_as, ada, fake_graph, sandbox):
    wa = Channel.objects.create(
        kind="whatsapp",
        name="Support WhatsApp",
        config={
            "phone_number_id": fake_graph.phone_number_id,
            "graph_api_url": fake_graph.graph_api_url,
            "waba_id": fake_graph.waba_id,
        },
        secrets={"access_token": fake_graph.access_token},
    )
    response = client_as(ada).post(
        "/setup/providers/channel/",
        {"action": "sync_templates_from_meta", "_selected_action": [wa.pk, sandbox.pk]},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Support WhatsApp: {len(fake_graph.templates)} new, 0 updated" in page
    assert "Only WhatsApp channels have templates to sync" in page
    assert Template.objects.filter(channel=wa).count() == len(fake_graph.templates)
