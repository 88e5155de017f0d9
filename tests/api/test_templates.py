"""/templates: WhatsApp templates with numbered variables, added and edited by admins."""

from __future__ import annotations

import pytest

from chatdesk.providers.models import Channel, ChannelKind, Template


@pytest.fixture
def whatsapp(db, sales) -> Channel:
    return Channel.objects.create(
        kind=ChannelKind.WHATSAPP,
        name="WhatsApp Sales",
        department=sales,
        config={"phone_number_id": "1"},
        secrets={"access_token": "t", "app_secret": "s", "verify_token": "v"},
    )


@pytest.fixture
def sms(db) -> Channel:
    return Channel.objects.create(kind=ChannelKind.SMS, name="SMS line")


def order_update(channel: Channel, **changes) -> dict:
    return {
        "channel_id": channel.pk,
        "name": "order_update",
        "language": "en_US",
        "category": "utility",
        "body": "Hi {{1}}, your order {{2}} has shipped. Reply to talk to {{1}}'s agent.",
        "status": "approved",
        **changes,
    }


def test_admin_adds_a_template(api_as, ada, whatsapp):
    response = api_as(ada).post("/templates", order_update(whatsapp))

    assert response.status_code == 201, response.content
    template = Template.objects.get()
    assert response.json() == {
        "id": template.pk,
        "channel_id": whatsapp.pk,
        "name": "order_update",
        "language": "en_US",
        "category": "utility",
        "body": "Hi {{1}}, your order {{2}} has shipped. Reply to talk to {{1}}'s agent.",
        "status": "approved",
        "variable_count": 2,
    }
    assert (template.channel, template.name, template.status) == (
        whatsapp,
        "order_update",
        "approved",
    )


def test_sandbox_channels_take_templates_and_defaults_apply(api_as, ada, sandbox):
    response = api_as(ada).post(
        "/templates", {"channel_id": sandbox.pk, "name": "hello", "body": "Hello!"}
    )

    assert response.status_code == 201, response.content
    template = Template.objects.get()
    assert (template.language, template.category, template.status) == (
        "en_US",
        "utility",
        "pending",
    )
    assert response.json()["variable_count"] == 0


@pytest.mark.parametrize("name", ["Order_Update", "order update", "order-update", "", "ordér"])
def test_name_must_be_lowercase_letters_digits_underscores(api_as, ada, whatsapp, name):
    response = api_as(ada).post("/templates", order_update(whatsapp, name=name))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "A template's name may only use lowercase letters, digits and underscores "
        f"(such as order_update); got {name!r}."
    }
    assert not Template.objects.exists()


def test_body_longer_than_1024_is_a_400(api_as, ada, whatsapp):
    assert (
        api_as(ada).post("/templates", order_update(whatsapp, body="x" * 1024)).status_code == 201
    )

    response = api_as(ada).post("/templates", order_update(whatsapp, name="long", body="x" * 1025))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "A template's body can be at most 1024 characters; this one has 1025."
    }
    assert list(Template.objects.values_list("name", flat=True)) == ["order_update"]


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ("Hi {{2}}", "{{2}}"),
        ("Hi {{1}} and {{3}}", "{{1}}, {{3}}"),
        ("Hi {{0}} {{1}}", "{{0}}, {{1}}"),
    ],
)
def test_placeholders_must_count_up_from_one(api_as, ada, whatsapp, body, found):
    response = api_as(ada).post("/templates", order_update(whatsapp, body=body))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "A template's placeholders must be numbered from {{1}} up with none skipped; "
        f"this body has {found}."
    }
    assert not Template.objects.exists()


def test_named_placeholders_are_refused(api_as, ada, whatsapp):
    response = api_as(ada).post("/templates", order_update(whatsapp, body="Hi {{name}}"))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "A template's placeholders are numbers such as {{1}}; {{name}} is not one."
    }


def test_templates_are_not_for_sms(api_as, ada, sms):
    response = api_as(ada).post("/templates", order_update(sms))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Templates are for WhatsApp (and sandbox) channels; 'SMS line' is an SMS channel."
    }
    assert not Template.objects.exists()


def test_unknown_channel_is_a_400(api_as, ada, db):
    response = api_as(ada).post("/templates", {**order_update(Channel(pk=9999))})

    assert response.status_code == 400
    assert response.json() == {"detail": "No channel has the id 9999."}


def test_bad_language_category_and_status(api_as, ada, whatsapp):
    client = api_as(ada)
    language = client.post("/templates", order_update(whatsapp, language="English"))
    assert language.status_code == 400
    assert language.json() == {
        "detail": "A template's language must be a code such as en or en_US; got 'English'."
    }
    category = client.post("/templates", order_update(whatsapp, category="promo"))
    assert category.status_code == 400
    assert category.json()["detail"].startswith("category: Input should be 'marketing'")
    status = client.post("/templates", order_update(whatsapp, status="live"))
    assert status.status_code == 400
    assert status.json()["detail"].startswith("status: Input should be 'approved'")
    assert not Template.objects.exists()


def test_same_name_and_language_on_a_channel_is_a_conflict(api_as, ada, whatsapp, sandbox):
    client = api_as(ada)
    assert client.post("/templates", order_update(whatsapp)).status_code == 201

    response = client.post("/templates", order_update(whatsapp, body="Another"))

    assert response.status_code == 409
    assert response.json() == {
        "detail": "The channel already has a template named 'order_update' in en_US."
    }
    # Another language, or another channel, is a different template.
    assert client.post("/templates", order_update(whatsapp, language="pt_BR")).status_code == 201
    assert client.post("/templates", order_update(sandbox)).status_code == 201
    assert Template.objects.count() == 3


def test_only_admins_add_templates(api_as, alice, sam, whatsapp):
    for user in (alice, sam):
        response = api_as(user).post("/templates", order_update(whatsapp))
        assert response.status_code == 403
        assert response.json() == {"detail": "Only an admin can change the desk's set-up."}
    assert not Template.objects.exists()


def _template(channel: Channel, name: str = "order_update", **fields) -> Template:
    return Template.objects.create(channel=channel, name=name, body="Hi {{1}}", **fields)


def test_everyone_lists_templates_with_filters(api_as, alice, whatsapp, sandbox):
    approved = _template(whatsapp, "a_welcome", status="approved")
    _template(whatsapp, "b_pending", status="pending")
    elsewhere = _template(sandbox, "c_sandbox", status="approved")
    client = api_as(alice)

    everything = client.get("/templates")
    assert everything.status_code == 200
    assert [t["name"] for t in everything.json()] == ["a_welcome", "b_pending", "c_sandbox"]
    on_whatsapp = client.get("/templates", channel_id=whatsapp.pk).json()
    assert [t["name"] for t in on_whatsapp] == ["a_welcome", "b_pending"]
    ready = client.get("/templates", status="approved").json()
    assert [t["id"] for t in ready] == [approved.pk, elsewhere.pk]
    both = client.get("/templates", channel_id=whatsapp.pk, status="approved").json()
    assert [t["id"] for t in both] == [approved.pk]
    bad = client.get("/templates", status="live")
    assert bad.status_code == 400


def test_get_one_template_and_404(api_as, alice, whatsapp):
    template = _template(whatsapp)

    response = api_as(alice).get(f"/templates/{template.pk}")
    assert response.status_code == 200
    assert response.json()["variable_count"] == 1

    missing = api_as(alice).get("/templates/9999")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No template has the id 9999."}


def test_admin_patches_a_template(api_as, ada, whatsapp):
    template = _template(whatsapp)

    response = api_as(ada).patch(
        f"/templates/{template.pk}",
        {"status": "paused", "body": "Hi {{1}}, {{2}} and {{3}}", "category": "marketing"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["variable_count"] == 3
    assert response.json()["status"] == "paused"
    template.refresh_from_db()
    assert (template.status, template.category, template.name) == (
        "paused",
        "marketing",
        "order_update",
    )
    assert template.body == "Hi {{1}}, {{2}} and {{3}}"


def test_patch_with_bad_input_changes_nothing(api_as, ada, whatsapp, sms):
    template = _template(whatsapp, status="approved")
    client = api_as(ada)

    skipped = client.patch(f"/templates/{template.pk}", {"status": "pending", "body": "{{2}}"})
    assert skipped.status_code == 400
    to_sms = client.patch(f"/templates/{template.pk}", {"status": "pending", "channel_id": sms.pk})
    assert to_sms.status_code == 400
    assert to_sms.json()["detail"].startswith("Templates are for WhatsApp")
    bad_name = client.patch(f"/templates/{template.pk}", {"name": "Bad Name"})
    assert bad_name.status_code == 400

    template.refresh_from_db()
    assert (template.status, template.body, template.channel, template.name) == (
        "approved",
        "Hi {{1}}",
        whatsapp,
        "order_update",
    )


def test_patch_into_a_duplicate_is_a_conflict(api_as, ada, whatsapp):
    _template(whatsapp, "order_update")
    other = _template(whatsapp, "welcome")

    response = api_as(ada).patch(f"/templates/{other.pk}", {"name": "order_update"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": "The channel already has a template named 'order_update' in en_US."
    }
    other.refresh_from_db()
    assert other.name == "welcome"


def test_only_admins_patch_and_unknown_is_404(api_as, ada, alice, sam, whatsapp):
    template = _template(whatsapp, status="pending")
    for user in (alice, sam):
        response = api_as(user).patch(f"/templates/{template.pk}", {"status": "approved"})
        assert response.status_code == 403
        assert response.json() == {"detail": "Only an admin can change the desk's set-up."}
    template.refresh_from_db()
    assert template.status == "pending"

    missing = api_as(ada).patch("/templates/9999", {"status": "approved"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No template has the id 9999."}


def test_anonymous_gets_401(api_as, whatsapp):
    template = _template(whatsapp)
    client = api_as(None)
    for response in (
        client.get("/templates"),
        client.post("/templates", order_update(whatsapp, name="other")),
        client.get(f"/templates/{template.pk}"),
        client.patch(f"/templates/{template.pk}", {"status": "approved"}),
    ):
        assert response.status_code == 401
        assert response.json()["detail"].startswith("Sign in")
    assert Template.objects.count() == 1
    template.refresh_from_db()
    assert template.status == "pending"
