"""The fake provider servers, for the tests in this package (other packages get them from
``tests.support.fakes_plugin``)."""

from __future__ import annotations

from tests.support.fakes_plugin import fake_graph, fake_twilio

__all__ = ["fake_graph", "fake_twilio"]
