"""How the set-up pages write: through the services, with a refusal shown on the form.

A ``ModelAdmin`` here saves by calling a service in ``save_model`` / ``save_related``.
When the service refuses (a ``DeskError``), the admin's transaction rolls back, so
nothing is written, and the same POST is shown again with the service's sentence as the
form's error instead of a server error.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from chatdesk.accounts.models import User
from chatdesk.core.errors import DeskError

_REFUSAL = "_chatdesk_setup_refusal"


def acting_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the set-up site lets in signed-in admins only
    return user


def _refusing(form_class: type[ModelForm], refusal: DeskError) -> type[ModelForm]:
    class Refused(form_class):  # type: ignore[valid-type,misc]
        def clean(self) -> dict[str, Any]:
            cleaned: dict[str, Any] = super().clean() or {}
            self.add_error(None, refusal.detail)
            return cleaned

    Refused.__name__ = Refused.__qualname__ = form_class.__name__
    return Refused


class WritesThroughServices(admin.ModelAdmin):
    """Base of every editable model's admin on the set-up pages."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DeskError as refusal:
            if request.method != "POST" or hasattr(request, _REFUSAL):
                raise
            # The transaction is gone; show the same form again, with the sentence.
            setattr(request, _REFUSAL, refusal)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # By keyword: UserAdmin.get_form takes no ``change`` of its own.
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, _REFUSAL, None)
        return _refusing(form, refusal) if refusal is not None else form

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        """The service in ``save_model`` wrote the relations too; inlines, when there
        are any, are written by ``save_model`` from the formsets' cleaned data."""
