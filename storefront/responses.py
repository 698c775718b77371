from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


class SeeOther(HttpResponseRedirect):
    """303: after a POST, GET the next page (a reload then never re-posts)."""

    status_code = 303


def not_found(request):
    return render(request, "404.html", status=404)


def back_to(request, fallback):
    """Where the form came from (its `next` field), if that is a page of this site."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
