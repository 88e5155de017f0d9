"""The fake provider servers behave as documented: they answer like Meta and Twilio,
record every request, follow a script, and stop promptly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatdesk.providers.adapters.whatsapp_templates import list_templates
from tests.support.fakes import (
    FakeGraph,
    FakeTwilio,
    Reply,
    closed_port_url,
    default_templates,
)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as http:
        yield http


def graph_send(graph: FakeGraph, client: httpx.Client, **body: Any) -> httpx.Response:
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "to": "27821234567",
        "type": "text",
        "text": {"body": "hi"},
        **body,
    }
    return client.post(
        f"{graph.graph_api_url}/{graph.phone_number_id}/messages",
        json=payload,
        headers={"Authorization": f"Bearer {graph.access_token}"},
    )


def twilio_send(twilio: FakeTwilio, client: httpx.Client, **form: str) -> httpx.Response:
    return client.post(
        f"{twilio.url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json",
        data={"To": "+14155551234", "From": twilio.from_number, "Body": "hi", **form},
        auth=(twilio.account_sid, twilio.auth_token),
    )


def test_graph_answers_a_send_as_meta_does(fake_graph: FakeGraph, client: httpx.Client) -> None:
    response = graph_send(fake_graph, client)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "27821234567", "wa_id": "27821234567"}],
        "messages": [{"id": fake_graph.issued[0]}],
    }
    assert body["messages"][0]["id"].startswith("wamid.")
    assert fake_graph.sent == [fake_graph.last.json]


def test_graph_refuses_what_meta_refuses(fake_graph: FakeGraph, client: httpx.Client) -> None:
    assert graph_send(fake_graph, client, messaging_product=None).json()["error"]["code"] == 100
    assert graph_send(fake_graph, client, type="carrier_pigeon").status_code == 400
    other = client.post(
        f"{fake_graph.graph_api_url}/999/messages",
        json={"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x"}},
        headers={"Authorization": f"Bearer {fake_graph.access_token}"},
    )
    assert other.status_code == 400 and other.json()["error"]["error_subcode"] == 33
    unauthenticated = client.post(f"{fake_graph.graph_api_url}/1/messages", json={})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["type"] == "OAuthException"
    assert fake_graph.issued == []


def test_the_script_is_first_in_first_out(fake_graph: FakeGraph, client: httpx.Client) -> None:
    fake_graph.queue(
        (500, {"error": {"message": "boom", "code": 2}}),
        (429, {"error": {"message": "slow down", "code": 4}}, {"Retry-After": "2"}),
        Reply(200, {"messages": []}),
    )
    assert fake_graph.pending == 3
    first, second, third, fourth = (graph_send(fake_graph, client) for _ in range(4))
    assert (first.status_code, first.json()["error"]["message"]) == (500, "boom")
    assert (second.status_code, second.headers["Retry-After"]) == (429, "2")
    assert third.json() == {"messages": []}
    assert fourth.status_code == 200 and fourth.json()["messages"][0]["id"].startswith("wamid.")
    assert fake_graph.pending == 0
    assert len(fake_graph.requests) == 4


def test_bad_credentials_do_not_use_up_the_script(
    fake_twilio: FakeTwilio, client: httpx.Client
) -> None:
    fake_twilio.reply(500)
    refused = client.post(
        f"{fake_twilio.url}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json",
        data={"To": "+1", "Body": "x"},
        auth=(fake_twilio.account_sid, "wrong"),
    )
    assert refused.status_code == 401
    assert refused.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert fake_twilio.pending == 1
    assert twilio_send(fake_twilio, client).status_code == 500


def test_twilio_answers_a_create_as_twilio_does(
    fake_twilio: FakeTwilio, client: httpx.Client
) -> None:
    response = twilio_send(fake_twilio, client, StatusCallback="https://desk.example.com/s")
    assert response.status_code == 201
    body = response.json()
    assert body["sid"] == fake_twilio.issued[0]
    assert body["status"] == "queued"
    assert body["account_sid"] == fake_twilio.account_sid
    assert (body["to"], body["from"], body["body"]) == ("+14155551234", "+14155550100", "hi")
    assert body["uri"] == (
        f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages/{body['sid']}.json"
    )
    assert fake_twilio.sent[0]["StatusCallback"] == "https://desk.example.com/s"


def test_twilio_refuses_what_twilio_refuses(fake_twilio: FakeTwilio, client: httpx.Client) -> None:
    assert twilio_send(fake_twilio, client, To="").json()["code"] == 21604
    assert twilio_send(fake_twilio, client, Body="").json()["code"] == 21602
    assert twilio_send(fake_twilio, client, StatusCallback="ftp://x").json()["code"] == 21609
    elsewhere = client.post(
        f"{fake_twilio.url}/2010-04-01/Accounts/AC{'f' * 32}/Messages.json",
        data={"To": "+1", "Body": "x"},
        auth=(fake_twilio.account_sid, fake_twilio.auth_token),
    )
    assert elsewhere.status_code == 404
    assert fake_twilio.issued == []


def test_requests_are_recorded_from_many_threads(
    fake_twilio: FakeTwilio, client: httpx.Client
) -> None:
    codes: list[int] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        with httpx.Client(timeout=5.0) as own:
            status = twilio_send(fake_twilio, own, Body=f"message {i}").status_code
        with lock:
            codes.append(status)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [201] * 20
    assert sorted(f["Body"] for f in fake_twilio.sent) == sorted(f"message {i}" for i in range(20))
    assert len(set(fake_twilio.issued)) == 20


def test_stopping_does_not_wait_for_a_held_answer() -> None:
    graph = FakeGraph().start()
    graph.delay(30.0)
    with httpx.Client(timeout=0.3) as impatient, pytest.raises(httpx.ReadTimeout):
        graph_send(graph, impatient)
    started = time.monotonic()
    graph.stop()
    assert time.monotonic() - started < 5
    with pytest.raises(RuntimeError):
        _ = graph.url


def test_a_closed_port_refuses(client: httpx.Client) -> None:
    with pytest.raises(httpx.ConnectError):
        client.get(closed_port_url())


# -- templates -----------------------------------------------------------------------------


def test_templates_come_in_metas_pages(client: httpx.Client) -> None:
    with FakeGraph(page_size=2) as graph:
        url = f"{graph.graph_api_url}/{graph.waba_id}/message_templates"
        auth = {"Authorization": f"Bearer {graph.access_token}"}
        first = client.get(url, headers=auth).json()
        assert [t["name"] for t in first["data"]] == ["order_update", "follow_up"]
        assert set(first["paging"]["cursors"]) == {"before", "after"}
        next_url = first["paging"]["next"]
        assert next_url.startswith(url + "?")
        second = client.get(next_url, headers=auth).json()
        assert [t["name"] for t in second["data"]] == ["spring_sale"]
        assert "next" not in second["paging"]
        assert len(graph.requests) == 2


def test_a_template_row_has_metas_fields(fake_graph: FakeGraph, client: httpx.Client) -> None:
    url = f"{fake_graph.graph_api_url}/{fake_graph.waba_id}/message_templates"
    rows = client.get(url, headers={"Authorization": f"Bearer {fake_graph.access_token}"}).json()[
        "data"
    ]
    assert rows == default_templates()
    for row in rows:
        assert {"name", "language", "status", "category", "id", "components"} <= set(row)
        assert any(c["type"] == "BODY" for c in row["components"])


def test_templates_honour_fields_and_limit(fake_graph: FakeGraph, client: httpx.Client) -> None:
    url = f"{fake_graph.graph_api_url}/{fake_graph.waba_id}/message_templates"
    body = client.get(
        url,
        params={"fields": "name,status", "limit": "1"},
        headers={"Authorization": f"Bearer {fake_graph.access_token}"},
    ).json()
    assert body["data"] == [
        {"name": "order_update", "status": "APPROVED", "id": "1689556908129832"}
    ]
    assert "limit=1" in body["paging"]["next"] and "fields=name%2Cstatus" in body["paging"]["next"]


def test_templates_of_another_account_or_a_bad_cursor(
    fake_graph: FakeGraph, client: httpx.Client
) -> None:
    auth = {"Authorization": f"Bearer {fake_graph.access_token}"}
    other = client.get(f"{fake_graph.graph_api_url}/42/message_templates", headers=auth)
    assert other.status_code == 400 and other.json()["error"]["code"] == 100
    bad = client.get(
        f"{fake_graph.graph_api_url}/{fake_graph.waba_id}/message_templates",
        params={"after": "not-a-cursor"},
        headers=auth,
    )
    assert bad.status_code == 400


def test_an_empty_template_list(client: httpx.Client) -> None:
    with FakeGraph(templates=[]) as graph:
        body = client.get(
            f"{graph.graph_api_url}/{graph.waba_id}/message_templates",
            headers={"Authorization": f"Bearer {graph.access_token}"},
        ).json()
    assert body == {"data": []}


def test_the_template_sync_client_reads_every_page(client: httpx.Client) -> None:
    with FakeGraph(page_size=1) as graph:
        remote = list(
            list_templates(
                client,
                graph_api_url=graph.graph_api_url,
                waba_id=graph.waba_id,
                access_token=graph.access_token,
            )
        )
        # The client asks for 100 a page; Meta (and the fake) may give fewer.
        assert [r.query.get("limit") for r in graph.requests] == ["100"] * 3
    assert [(t.name, t.status, t.category) for t in remote] == [
        ("order_update", "approved", "utility"),
        ("follow_up", "approved", "utility"),
        ("spring_sale", "pending", "marketing"),
    ]
    assert remote[0].body == "Hi {{1}}, your order {{2}} is on its way."
