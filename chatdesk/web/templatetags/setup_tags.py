"""The set-up pages' warning of stored settings the desk cannot use as they are (the list
``/readyz`` reports too), above every set-up page, each linked to its object's page."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from chatdesk.flows.configuration import configuration_faults

register = template.Library()


def _change_url(row: Any) -> str:
    meta = row._meta
    try:
        return reverse(f"setup:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
    except NoReverseMatch:
        return ""


@register.inclusion_tag("admin/_configuration_faults.html", takes_context=True)
def configuration_fault_warnings(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not getattr(user, "is_admin", False):
        return {"faults": []}
    here = getattr(request, "path", "")
    faults = []
    for fault in configuration_faults():
        url = _change_url(fault.row)
        # On the object's own page the form below is where it is corrected.
        faults.append({"detail": fault.detail, "url": "" if url == here else url})
    return {"faults": faults}
