"""Logins, as the lock-out (django-axes) sees them: who is trying, and what a locked-out
client is shown. For the admin's login form and the shoppers' (django-allauth) alike."""

from django.shortcuts import render


def login_name(request, credentials=None):
    """The name being logged in with: the admin's username, or a shopper's e-mail address
    (allauth passes it as `email`), lowercased so "Ada@x.io" and "ada@x.io" count as one."""
    credentials = credentials or {}
    data = getattr(request, "POST", {}) if request is not None else {}
    name = (credentials.get("username") or credentials.get("email") or data.get("username") or data.get("login")
            or "")
    return str(name).strip().lower()


def lockout_response(request, original_response=None, credentials=None):
    """429: the admin's lock-out page for the admin, the shop's for shoppers."""
    from axes.helpers import get_cool_off, get_cool_off_iso8601

    cool_off = get_cool_off(request)
    context = {"cooloff_time": get_cool_off_iso8601(cool_off) if cool_off else "", "cooloff_timedelta": cool_off,
               "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else None}
    template = "admin/locked_out.html" if request.path.startswith("/admin/") else "account/locked_out.html"
    return render(request, template, context, status=429)
