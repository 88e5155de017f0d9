"""The customer simulator (``/simulator/``): anyone may play a customer writing to the desk
over a sandbox channel, while an active one exists. Thin views over ``web.simulator``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh, trigger_client_event
from django_htmx.middleware import HtmxDetails

from chatdesk.chats import queries as chat_queries
from chatdesk.core import clock
from chatdesk.core.errors import BadInput
from chatdesk.providers.models import Channel
from chatdesk.web import simulator
from chatdesk.web.simulator import Customer, InvalidCustomer

SESSION_KEY = "simulator_customer"
SENT_EVENT = "simulator-sent"  # the conversation refreshes at once when the composer sends

NO_SANDBOX = (
    "The customer simulator writes to the desk through a sandbox channel, and there is none "
    "yet. An admin can add one in Set-up, under Channels, with the kind “Sandbox”."
)
NO_SUCH_CHANNEL = "There is no active sandbox channel with that number."
NO_CUSTOMER = "Choose who you are before sending a message."


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


def _unavailable(request: HttpRequest, sentence: str) -> HttpResponse:
    return render(request, "web/simulator_unavailable.html", {"sentence": sentence}, status=404)


def _channels(raw: str | None) -> tuple[list[Channel], Channel | None]:
    """The sandbox channels, and the one asked for (the first when none is): None if the
    id is not one of them."""
    channels = list(chat_queries.sandbox_channels())
    if not channels:
        return channels, None
    if not raw:
        return channels, channels[0]
    return channels, next((c for c in channels if str(c.pk) == raw), None)


def _customer_of(request: HttpRequest) -> Customer | None:
    stored = request.session.get(SESSION_KEY)
    if not isinstance(stored, dict):
        return None
    phone, name = stored.get("phone"), stored.get("name", "")
    if not isinstance(phone, str) or not isinstance(name, str):
        return None
    return Customer(phone=phone, name=name)


def _page_url(channels: list[Channel], channel: Channel) -> str:
    url = reverse("simulator")
    return url if channel == channels[0] else f"{url}?channel={channel.pk}"


def _context(channels: list[Channel], channel: Channel, **extra: Any) -> dict[str, Any]:
    return {
        "channels": channels,
        "channel": channel,
        "page_url": _page_url(channels, channel),
        "today": timezone.localdate(clock.now()),
        "max_text": simulator.MAX_TEXT,
        **extra,
    }


def _picker(
    request: HttpRequest,
    channels: list[Channel],
    channel: Channel,
    *,
    phone: str,
    name: str,
    error: InvalidCustomer | None = None,
    status: int = 200,
) -> HttpResponse:
    identity = {"phone": phone, "name": name, "error": error}
    context = _context(
        channels, channel, customer=_customer_of(request), picking=True, identity=identity
    )
    return render(request, "web/simulator.html", context, status=status)


@never_cache
@require_GET
def simulator_page(request: HttpRequest) -> HttpResponse:
    channels, channel = _channels(request.GET.get("channel"))
    if channel is None:
        return _unavailable(request, NO_SANDBOX if not channels else NO_SUCH_CHANNEL)
    customer = _customer_of(request)
    if customer is None or request.GET.get("switch"):
        phone, name = (customer.phone, customer.name) if customer else ("", "")
        return _picker(request, channels, channel, phone=phone, name=name)
    screen = simulator.look_at_phone(channel=channel, phone=customer.phone)
    context = _context(
        channels, channel, customer=customer, screen=screen, send_key=simulator.new_send_key()
    )
    return render(request, "web/simulator.html", context)


@never_cache
@require_POST
def simulator_identity(request: HttpRequest) -> HttpResponse:
    channels, channel = _channels(request.POST.get("channel"))
    if channel is None:
        return _unavailable(request, NO_SANDBOX if not channels else NO_SUCH_CHANNEL)
    phone, name = request.POST.get("phone", ""), request.POST.get("name", "")
    if request.POST.get("new_customer"):
        # Without JavaScript the "New customer" button comes here for its number.
        return _picker(request, channels, channel, phone=simulator.new_customer_phone(), name="")
    try:
        customer = simulator.check_customer(phone=phone, name=name)
    except InvalidCustomer as error:
        return _picker(request, channels, channel, phone=phone, name=name, error=error, status=422)
    request.session[SESSION_KEY] = {"phone": customer.phone, "name": customer.name}
    return redirect(_page_url(channels, channel))


@never_cache
@require_POST
def simulator_send(request: HtmxRequest) -> HttpResponse:
    channels, channel = _channels(request.POST.get("channel"))
    if channel is None:
        return _unavailable(request, NO_SANDBOX if not channels else NO_SUCH_CHANNEL)
    customer = _customer_of(request)
    text, key = request.POST.get("text", ""), request.POST.get("key", "")
    if customer is None and not request.htmx:
        return redirect(_page_url(channels, channel))  # the page asks who they are
    error = NO_CUSTOMER if customer is None else None
    if customer is not None:
        try:
            simulator.send_as_customer(channel=channel, customer=customer, text=text, key=key)
        except BadInput as refused:
            error = refused.detail
    if error is None and not request.htmx:
        return redirect(_page_url(channels, channel))
    composer = {
        "error": error,
        "text": text if error else "",
        "send_key": key if error and simulator.is_send_key(key) else simulator.new_send_key(),
    }
    if not request.htmx and customer is not None:
        # Without JavaScript: the whole page again, with the refusal under the composer.
        screen = simulator.look_at_phone(channel=channel, phone=customer.phone)
        context = _context(channels, channel, customer=customer, screen=screen, **composer)
        return render(request, "web/simulator.html", context, status=422)
    context = _context(channels, channel, customer=customer, **composer)
    response = render(
        request, "web/_simulator_composer.html", context, status=422 if error else 200
    )
    return response if error else trigger_client_event(response, SENT_EVENT)


def _conversation(request: HttpRequest, params: Any, *, receive: bool) -> HttpResponse:
    channels, channel = _channels(params.get("channel"))
    customer = _customer_of(request)
    if channel is None or customer is None:
        # The channel went away or the session ended: the page itself says what to do.
        return HttpResponseClientRefresh()
    since = params.get("since", "")
    if receive:
        looking = params.get("hidden") != "1"
        screen = simulator.receive_on_phone(
            channel=channel, phone=customer.phone, looking=looking, since=since
        )
    else:
        screen = simulator.look_at_phone(channel=channel, phone=customer.phone, since=since)
    if screen is None:
        return HttpResponse(status=204)
    context = _context(channels, channel, customer=customer, screen=screen)
    return render(request, "web/_simulator_conversation.html", context)


@never_cache
@require_GET
def simulator_conversation(request: HttpRequest) -> HttpResponse:
    """The conversation fragment, read only: 204 when nothing changed since ``since``."""
    return _conversation(request, request.GET, receive=False)


@never_cache
@require_POST
def simulator_receipts(request: HttpRequest) -> HttpResponse:
    """What the page posts every second: the phone receives the desk's messages (and reads
    them unless ``hidden``), then answers with the conversation, 204 when unchanged."""
    return _conversation(request, request.POST, receive=True)
