"""Open311 GeoReport v2 at ``/open311/v2/`` (``shared/specs/open311.md``), so that existing city-request
clients talk to the request channel unchanged. Services are the request categories; a request is
``open`` until it is closed, and the platform's own state is in ``status_notes``.

Both formats of the standard: XML (the required one; documents start with a UTF-8 declaration) and JSON,
with the same content. Every field the standard lists is present (``null`` in JSON, empty in XML when
unknown); identifiers are strings; datetimes are ISO 8601 with the offset. Errors are an array of
``{code, description}`` with the HTTP status as code.

Who is asking: the ``api_key`` is a platform API token (``accounts.selectors.token_user``: refused once it
has expired or been revoked); its user files and reads exactly as on the pages (an enterprise user for
its own enterprise, a hotline operator for any, given as ``attribute[uscc]``). Reads also accept a
signed-in session. Discovery and the service list are public. The key is never written to a log or an
error report (``core.logs``).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from huiqi.accounts.selectors import TokenRefused, token_user
from huiqi.core.errors import DomainError

from . import rules, selectors, services
from .filters import Open311Filter
from .models import Category, Channel, EnterpriseRequest, Status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# A list inside a document: the element each of its items is written as, in XML.
ITEM_TAGS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}
CHANGESET = "2020-02-15T00:00:00+08:00"
MAX_ROWS = 1000
# The standard's limit on a request's description, whatever the platform's own forms allow.
DESCRIPTION_MAX_CHARS = 4000
# The platform's name of a field → the parameter an Open311 client sent it as.
PARAMETERS = {"enterprise": "attribute[uscc]", "title": "attribute[title]"}


# --- rendering -----------------------------------------------------------------------------------


def _xml_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # A character XML 1.0 cannot carry would make the whole document unreadable to the client.
    return escape(rules.clean_text(str(value)))


def _xml_element(tag: str, value) -> str:
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_xml_element(k, v) for k, v in value.items()) + f"</{tag}>"
    if isinstance(value, list):
        item = ITEM_TAGS.get(tag, "item")
        return f"<{tag}>" + "".join(_xml_element(item, v) for v in value) + f"</{tag}>"
    return f"<{tag}>{_xml_value(value)}</{tag}>"


def render(data, fmt: str, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    """``data`` as JSON, or as XML under ``root`` (a list's items each as ``item``)."""
    if fmt == "xml":
        if isinstance(data, list):
            body = f"<{root}>" + "".join(_xml_element(item, d) for d in data) + f"</{root}>"
        else:
            body = _xml_element(root, data)
        content = '<?xml version="1.0" encoding="utf-8"?>\n' + body
    else:
        content = json.dumps(data, ensure_ascii=False)
    return HttpResponse(content.encode("utf-8"), status=status, content_type=FORMATS.get(fmt, FORMATS["json"]))


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render([{"code": status, "description": description}], fmt, "errors", "error", status=status)


def _fmt_ok(fmt) -> bool:
    return fmt in FORMATS


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    # A deadline is a day: it ends at the end of that day in Shanghai.
    end = timezone.make_aware(dt.datetime.combine(value, dt.time(23, 59, 59)))
    return end.isoformat(timespec="seconds")


def _param(request, name) -> str:
    """An empty optional parameter means the same as an absent one."""
    return (request.GET.get(name) or request.POST.get(name) or "").strip()


# --- who is asking ---------------------------------------------------------------------------------


class KeyRefused(Exception):
    """The ``api_key`` opens nothing: its description says why (expired, revoked, or unknown)."""


@sensitive_variables("key")
def _user_from_key(key: str):
    """The key's user; ``KeyRefused`` for a key that is missing or does not open the API."""
    if not key:
        raise KeyRefused("api_key missing or invalid")
    try:
        user, _token = token_user(key)
    except TokenRefused as exc:
        code, zh, en = exc.bilingual
        raise KeyRefused("api_key missing or invalid" if code == "authentication_failed"
                         else f"api_key: {en} / {zh}") from None
    return user


@sensitive_variables("key")
def _reader(request):
    key = _param(request, "api_key")
    if key:
        return _user_from_key(key)
    if request.user.is_authenticated:
        return request.user
    raise KeyRefused("api_key missing or invalid")


# --- documents -------------------------------------------------------------------------------------


def _base(request) -> str:
    """The endpoint's address from the configured public URL, never from the request's Host header."""
    from django.conf import settings

    return settings.HUIQI_PUBLIC_URL + reverse("open311:discovery", kwargs={"fmt": "json"}).rsplit("/", 1)[0]


def discovery(request, fmt):
    if not _fmt_ok(fmt):
        return error("json", 404, "unknown format")
    data = {
        "changeset": CHANGESET,
        "contact": "深圳市中小企业服务局 深i企 · 12345 / Shenzhen SME Service Bureau, call 12345",
        "key_service": "API 密钥即平台接口令牌：在平台的“我的账户”页申请，到期失效，可随时撤销 / the api_key is a "
                       "platform API token, issued on the account page; it expires and can be revoked",
        "endpoints": [{"specification": SPECIFICATION, "url": _base(request), "changeset": CHANGESET,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    }
    return render(data, fmt, "discovery")


def _service(c: Category) -> dict:
    return {"service_code": c.code, "service_name": c.name, "description": c.description or c.name_en,
            "metadata": True, "type": "batch", "keywords": ",".join(rules.split_keywords(c.keywords)),
            "group": "深i企 enterprise requests"}


def service_list(request, fmt):
    if not _fmt_ok(fmt):
        return error("json", 404, "unknown format")
    return render([_service(c) for c in Category.objects.filter(active=True)], fmt, "services", "service")


ATTRIBUTES = [
    {"variable": True, "code": "uscc", "datatype": "string", "required": False,
     "datatype_description": "18 位统一社会信用代码 / 18-character unified social credit code", "order": 1,
     "description": "企业统一社会信用代码（热线或代办必填；企业账户可省略）/ the enterprise's USCC (required unless "
                    "the account is the enterprise's own)", "values": []},
    {"variable": True, "code": "title", "datatype": "string", "required": False,
     "datatype_description": "不超过 100 字 / at most 100 characters", "order": 2,
     "description": "诉求标题（省略时取描述开头）/ title (defaults to the start of the description)", "values": []},
]


def service_definition(request, code, fmt):
    if not _fmt_ok(fmt):
        return error("json", 404, "unknown format")
    c = Category.objects.filter(code=code, active=True).first()
    if c is None:
        return error(fmt, 404, f"service_code {code} not found")
    return render({"service_code": c.code, "attributes": ATTRIBUTES}, fmt, "service_definition")


def _request_doc(r: EnterpriseRequest) -> dict:
    return {
        "service_request_id": r.number,
        "status": rules.open311_status(r.status),
        "status_notes": str(Status(r.status).label),
        "service_name": r.category.name,
        "service_code": r.category.code,
        "description": r.description,
        "agency_responsible": r.agency.name,
        "service_notice": None,
        "requested_datetime": _iso(r.submitted_at),
        "updated_datetime": _iso(r.updated_at),
        "expected_datetime": _iso(r.due_date or r.answer_deadline) if r.status != Status.CLOSED else None,
        "address": r.address or r.district.name,
        "address_id": None,
        "zipcode": None,
        # Coordinates are numbers in the standard's documents, not identifiers.
        "lat": float(r.lat) if r.lat is not None else None,
        "long": float(r.long) if r.long is not None else None,
        "media_url": None,
    }


def _list(request, fmt):
    try:
        user = _reader(request)
    except KeyRefused as exc:
        return error(fmt, 403, str(exc))
    filterset = Open311Filter(request.GET, queryset=selectors.requests_for(user).select_related(
        "category", "agency", "district"))
    refusal = filterset.refusal()
    if refusal:
        return error(fmt, 400, refusal)
    qs = filterset.qs
    rows = [_request_doc(r) for r in qs.order_by("-submitted_at", "-id")[:MAX_ROWS]]
    return render(rows, fmt, "service_requests", "request")


def _decimal(text):
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _create(request, fmt):
    try:
        user = _user_from_key(_param(request, "api_key"))
    except KeyRefused as exc:
        return error(fmt, 403, str(exc))
    if not user.has_perm("requests.submit"):
        return error(fmt, 403, "this account may not file requests")
    code = _param(request, "service_code")
    if not code:
        return error(fmt, 400, "service_code is required")
    category = Category.objects.filter(code=code, active=True).first()
    if category is None:
        return error(fmt, 404, f"service_code {code} not found")
    lat, long = _param(request, "lat"), _param(request, "long")
    address, address_id = _param(request, "address_string"), _param(request, "address_id")
    if not ((lat and long) or address or address_id):
        return error(fmt, 400, "a location is required: lat and long, address_string or address_id")
    if bool(lat) != bool(long):
        return error(fmt, 400, "lat and long go together: give both or neither")
    lat_v = _decimal(lat) if lat else None
    long_v = _decimal(long) if long else None
    if (lat and (lat_v is None or not -90 <= lat_v <= 90)) or (long and (long_v is None or not -180 <= long_v <= 180)):
        return error(fmt, 400, "lat and long must be decimal degrees")
    email = _param(request, "email")
    if email:
        try:
            validate_email(email)
            if len(email) > EnterpriseRequest._meta.get_field("contact_email").max_length:
                raise ValidationError("too long")
        except ValidationError:
            return error(fmt, 400, "email is not an e-mail address")
    description = request.POST.get("description", "")
    if len(description) > DESCRIPTION_MAX_CHARS:
        return error(fmt, 400, f"description must be at most {DESCRIPTION_MAX_CHARS} characters "
                               f"(it has {len(description)}) / 诉求内容不能超过 {DESCRIPTION_MAX_CHARS} 个字"
                               f"（现有 {len(description)} 个字）")
    title = _param(request, "attribute[title]") or description.strip()[:30]
    name = " ".join(x for x in (_param(request, "last_name"), _param(request, "first_name")) if x)
    try:
        enterprise = selectors.filing_enterprise(user, _param(request, "attribute[uscc]"))
        req = services.submit_request(
            user, enterprise=enterprise, category=category, title=title, description=description,
            channel=Channel.OPEN311, contact_name=name, contact_phone=_param(request, "phone"),
            contact_email=email, address=address or address_id,
            lat=lat_v.quantize(Decimal("0.000001")) if lat_v is not None else None,
            long=long_v.quantize(Decimal("0.000001")) if long_v is not None else None)
    except DomainError as exc:
        named = f"{PARAMETERS[exc.field]}: " if exc.field in PARAMETERS else ""
        return error(fmt, exc.status, f"{named}{exc.en} / {exc.zh}")
    body = [{"service_request_id": req.number, "service_notice": f"请记下编号 {req.number} / quote {req.number}",
             "account_id": _param(request, "account_id") or None}]
    return render(body, fmt, "service_requests", "request", status=201)


@csrf_exempt
def requests_collection(request, fmt):
    if not _fmt_ok(fmt):
        return error("json", 404, "unknown format")
    if request.method == "POST":
        return _create(request, fmt)
    if request.method in ("GET", "HEAD"):
        return _list(request, fmt)
    return error(fmt, 405, "method not allowed")


def request_detail(request, number, fmt):
    if not _fmt_ok(fmt):
        return error("json", 404, "unknown format")
    try:
        user = _reader(request)
    except KeyRefused as exc:
        return error(fmt, 403, str(exc))
    r = selectors.requests_for(user).select_related("category", "agency", "district").filter(number=number).first()
    if r is None:
        return error(fmt, 404, f"service_request_id {number} not found")
    return render([_request_doc(r)], fmt, "service_requests", "request")
