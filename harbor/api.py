"""API plumbing shared by every app: the size-limited JSON parser and one error shape.

Every error under /api/ is JSON: validation errors as {"errors": {field: [messages]}},
everything else as {"code": ..., "detail": ...}. Django-level 400/404/500 pages (outside
DRF's reach) use the same shape through the handlers wired in harbor/urls.py.
"""

import io
import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "Request body is too large."


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser, but it reads at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes.

    DRF reads the WSGI stream directly, bypassing Django's own body limit, so the
    limit is enforced here, whether or not the client sent a Content-Length.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"Request body exceeds {limit} bytes.")
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
            # "\ud800" escapes decode to lone surrogates, which PostgreSQL cannot store.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except RecursionError:  # absurdly nested JSON; the stdlib decoder gives up
            raise exceptions.ParseError("JSON parse error - nested too deeply.")
        except UnicodeEncodeError:
            raise exceptions.ParseError("JSON parse error - invalid Unicode (lone surrogate).")
        return data


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):  # Django's own limit tripped first
        exc = RequestTooLarge(f"Request body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's handler500 answers (JSON, see server_error)
    if isinstance(exc, (exceptions.ValidationError, exceptions.ParseError)):
        detail = response.data if isinstance(exc, exceptions.ValidationError) else [str(exc.detail)]
        if not isinstance(detail, dict):
            detail = {api_settings.NON_FIELD_ERRORS_KEY: detail}
        response.data = {"errors": detail}
    elif not isinstance(response.data, dict) or "code" not in response.data:
        # DRF's {"detail": "..."} becomes {"code": ..., "detail": ...}; exceptions raised
        # with a ready {"code": ...} dict (409, 422) pass through as they are.
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        # DRF's ErrorDetail carries its code (also for Http404 → NotFound, converted by DRF).
        response.data = {"code": getattr(detail, "code", None) or "error", "detail": detail}
    return response


def _error(status_code, code, detail):
    return JsonResponse({"code": code, "detail": detail}, status=status_code)


def bad_request(request, exception=None):
    return _error(400, "bad_request", "Bad request.")


def permission_denied(request, exception=None):
    return _error(403, "permission_denied", "Permission denied.")


def wants_page(request):
    """A browser asking for a page outside /api/ gets HTML; the API and programs get JSON."""
    return not request.path.startswith("/api/") and "text/html" in request.headers.get("Accept", "")


def not_found(request, exception=None):
    if wants_page(request):
        return render(request, "404.html", status=404)  # the storefront's template
    return _error(404, "not_found", "Not found.")


def server_error(request):
    if wants_page(request):
        return HttpResponseServerError(loader.get_template("500.html").render())  # no context: nothing can fail
    return _error(500, "server_error", "Internal server error.")


# --- Schema of the error bodies (for drf-spectacular) -------------------------------------
from rest_framework import serializers  # noqa: E402


class ValidationErrorSerializer(serializers.Serializer):
    errors = serializers.DictField(child=serializers.JSONField(), help_text="field -> [messages]")


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
