"""Precise push (精准推送) from the outside: consent per channel, the digest (one message per enterprise,
channel and day), the external cap of the spec's example, unsubscriptions, unknown outcomes asked in the
inbox only, closing reminders, the message states, the pages each enterprise sees of its own, and the same
function deciding search and push."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi.accounts.services import create_user
from huiqi.core import clock
from huiqi.core.errors import Conflict, InvalidFields, PermissionDenied
from huiqi.core.models import AuditEvent
from huiqi.policies import push, selectors, services
from huiqi.policies.models import ItemView, PushEntry, PushMessage, PushTrigger
from huiqi.policies.senders import MemorySender

ANY_ENTERPRISE = {"field": "kind", "op": "eq", "value": "enterprise"}
SMALL_IN_NANSHAN = {"all": [{"id": "L1", "field": "size_class", "op": "in", "value": ["small", "micro"]},
                            {"id": "L2", "field": "district", "op": "eq", "value": "440305"}]}


@pytest.fixture
def hub(users, settings):
    """The conftest city with a second bureau officer (the reviewer) and a sender that keeps what it sends."""
    settings.HUIQI_PUSH_SENDER = "huiqi.policies.senders.MemorySender"
    MemorySender.outbox = []
    users["reviewer"] = create_user(None, username="bureau2", password="x-Long-enough-9", role="bureau",
                                    check_password=False)
    return users


def publish(users, code: str, day: dt.date, criteria=ANY_ENTERPRISE, **content):
    """Item ``code`` published in force from ``day`` (the day before, so its trigger is due on ``day``)."""
    with clock.fixed(day - dt.timedelta(days=1)):
        v = services.save_draft(users["bureau"], code, {"title": f"政策{code}", "mode": "application",
                                                        "opens": "2020-01-01", "criteria": criteria, **content})
        services.submit(users["bureau"], v)
        return services.publish(users["reviewer"], v, day)


def inbox(ent, day=None):
    qs = PushMessage.objects.filter(enterprise=ent, channel="inbox")
    return qs.filter(day=day) if day else qs


def told(ent, day, channel="inbox", reason="new_match") -> set[str]:
    return set(PushEntry.objects.filter(message__enterprise=ent, message__day=day, message__channel=channel,
                                        reason=reason).values_list("item__code", flat=True))


def test_cap_of_the_spec_example_sms_then_inbox_only_then_sms_again(hub, city):
    ent = city["ns1"]
    push.give_consent(hub["enterprise"], ent, "sms", "13800138000")
    for n, day in enumerate(dt.date(2020, 3, d) for d in (2, 3, 5, 6, 8, 9)):
        publish(hub, f"CAP{n}", day)
        push.run(day)
    sms = PushMessage.objects.filter(enterprise=ent, channel="sms").order_by("day")
    assert [m.day.day for m in sms] == [2, 3, 5, 9]
    assert all(m.state == "sent" for m in sms) and len(MemorySender.outbox) == 4
    assert {m.day.day: m.capped for m in inbox(ent)} == {2: False, 3: False, 5: False, 6: True, 8: True, 9: False}
    assert told(ent, dt.date(2020, 3, 8)) == {"CAP4"}  # the capped day's items are in the inbox


def test_external_only_with_consent_which_is_recorded_and_withdrawable(hub, city):
    ent, day = city["ns1"], dt.date(2020, 3, 2)
    with pytest.raises(InvalidFields) as bad:
        push.give_consent(hub["enterprise"], ent, "sms", "12345", how="fax")
    assert {e.field for e in bad.value.errors} == {"address", "how"}
    with pytest.raises(PermissionDenied):
        push.give_consent(hub["enterprise2"], ent, "email", "a@example.com")  # not its enterprise
    consent = push.give_consent(hub["enterprise"], ent, "email", "boss@example.com")
    assert (consent.given_by, consent.how, consent.withdrawn_at) == (hub["enterprise"], "online", None)
    publish(hub, "A", day)
    push.run(day)
    assert set(PushMessage.objects.filter(day=day, enterprise=ent).values_list("channel", flat=True)) == {
        "inbox", "email"}
    assert told(city["ns2"], day) == {"A"} and not PushMessage.objects.filter(enterprise=city["ns2"]).exclude(
        channel="inbox").exists()
    push.withdraw_consent(hub["enterprise"], ent, "email")
    with pytest.raises(Conflict):
        push.withdraw_consent(hub["enterprise"], ent, "email")
    nxt = dt.date(2020, 3, 3)
    publish(hub, "B", nxt)
    push.run(nxt)
    assert list(PushMessage.objects.filter(day=nxt, enterprise=ent).values_list("channel", flat=True)) == ["inbox"]
    actions = list(AuditEvent.objects.filter(action__in=["policies.consent", "policies.consent_withdraw"])
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["policies.consent", "policies.consent_withdraw"]


def test_digest_groups_a_days_items_in_one_message_per_channel_and_a_rerun_adds_nothing(hub, city):
    ent, day = city["ns1"], dt.date(2020, 3, 2)
    push.give_consent(hub["enterprise"], ent, "sms", "13800138000")
    for code in ("A", "B", "C"):
        publish(hub, code, day)
    push.run(day)
    push.run(day)
    assert inbox(ent).count() == 1 and told(ent, day) == {"A", "B", "C"}
    assert PushMessage.objects.filter(enterprise=ent, channel="sms").count() == 1 and told(ent, day, "sms") == {
        "A", "B", "C"}
    assert len(MemorySender.outbox) == 1 and all(t in MemorySender.outbox[0][3] for t in ("政策A", "政策B", "政策C"))
    assert not PushTrigger.objects.filter(done_at__isnull=True).exists()
    # A new version that changes nothing in the criteria pushes nothing again; one that widens them
    # pushes to those who newly match only.
    later = dt.date(2020, 3, 3)
    publish(hub, "A", later, summary="说明更新")
    publish(hub, "C", later, criteria={"field": "kind", "op": "in", "value": ["enterprise", "individual_business"]})
    push.run(later)
    assert told(ent, later) == set() and told(city["ba1"], later) == {"C"}


def test_unknown_outcome_is_asked_for_in_the_inbox_never_by_sms(hub, city):
    ent, day = city["ns1"], dt.date(2020, 3, 2)  # no founding day on record: established_on is unknown
    push.give_consent(hub["enterprise"], ent, "sms", "13800138000")
    publish(hub, "OLD", day, criteria={"field": "established_on", "op": "le", "value": "2019-12-31"})
    push.run(day)
    entry = PushEntry.objects.get(message__enterprise=ent)
    assert (entry.message.channel, entry.reason, entry.missing) == ("inbox", "ask", ["established_on"])
    assert not PushMessage.objects.filter(channel="sms").exists() and MemorySender.outbox == []
    publish(hub, "OLD", dt.date(2020, 3, 3), criteria={"field": "established_on", "op": "le",
                                                       "value": "2019-06-30"})
    push.run(dt.date(2020, 3, 3))
    assert PushEntry.objects.filter(message__enterprise=ent, reason="ask").count() == 1  # asked once per item


def test_unsubscribe_per_item_channel_saved_filter_and_all(hub, city):
    ent, user = city["ns1"], hub["enterprise"]
    push.give_consent(user, ent, "sms", "13800138000")
    with pytest.raises(InvalidFields):
        push.unsubscribe(user, ent, "item", item_code="NOPE")
    with pytest.raises(InvalidFields):
        push.unsubscribe(user, ent, "channel", channel="inbox")  # the inbox is always delivered to
    publish(hub, "RENT", dt.date(2020, 3, 1), tags={"subject": ["rent"]})
    push.run(dt.date(2020, 3, 1))
    item_off = push.unsubscribe(user, ent, "item", item_code="RENT")
    with pytest.raises(Conflict):
        push.unsubscribe(user, ent, "item", item_code="RENT")
    sms_off = push.unsubscribe(user, ent, "channel", channel="sms")
    d1 = dt.date(2020, 3, 2)
    publish(hub, "RENT", d1, criteria={"field": "employees", "op": "ge", "value": 1}, tags={"subject": ["rent"]})
    publish(hub, "TAX", d1, tags={"subject": ["tax"]})
    push.run(d1)
    assert told(ent, d1) == {"TAX"} and not PushMessage.objects.filter(day=d1, channel="sms").exists()

    push.resubscribe(user, sms_off)
    push.resubscribe(user, item_off)
    rent_only = push.save_filter(user, ent, "租金", {"subject": ["rent"]})
    d2 = dt.date(2020, 3, 3)
    publish(hub, "RENT2", d2, tags={"subject": ["rent"]})
    publish(hub, "TAX2", d2, tags={"subject": ["tax"]})
    push.run(d2)
    assert told(ent, d2) == {"RENT2"} and told(ent, d2, "sms") == {"RENT2"}
    assert told(city["ns2"], d2) == {"RENT2", "TAX2"}  # saved no filter: every match

    push.set_filter_push(user, rent_only, False)
    d3 = dt.date(2020, 3, 4)
    publish(hub, "RENT3", d3, tags={"subject": ["rent"]})
    push.run(d3)
    assert told(ent, d3) == set()

    push.set_filter_push(user, rent_only, True)
    push.unsubscribe(user, ent, "all")
    d4 = dt.date(2020, 3, 5)
    publish(hub, "RENT4", d4, tags={"subject": ["rent"]})
    push.run(d4)
    assert not PushMessage.objects.filter(enterprise=ent, day=d4).exists() and told(city["ns2"], d4) == {"RENT4"}
    assert AuditEvent.objects.filter(action="policies.unsubscribe").count() == 3


def test_what_is_pushed_on_a_day_is_what_search_with_the_saved_filter_lists_as_met(hub, city):
    """The same rule (``rules.matches``) over items of every kind: met or not, unknown, closed before the
    day, outside the filter's tags."""
    day = dt.date(2020, 3, 10)
    items = {
        "M1": {"criteria": SMALL_IN_NANSHAN, "tags": {"subject": ["rent"]}},
        "M2": {"criteria": ANY_ENTERPRISE, "tags": {"subject": ["tax"], "benefit": ["reduction"]}},
        "M3": {"criteria": {"field": "employees", "op": "ge", "value": 40}, "tags": {"subject": ["rent", "tax"]}},
        "M4": {"criteria": {"field": "established_on", "op": "le", "value": "2019-12-31"},
               "tags": {"subject": ["rent"]}},
        "M5": {"criteria": ANY_ENTERPRISE, "tags": {"subject": ["rent"]}, "closes": "2020-03-09"},
        "M6": {"criteria": {"field": "district", "op": "eq", "value": "440304"}, "tags": {"subject": ["upgrade"]}},
    }
    for code, content in items.items():
        publish(hub, code, day, **content)
    chosen = {"ns1": {"subject": ["rent"]}, "ns2": {"subject": ["tax"], "benefit": ["reduction"]}, "ft1": {},
              "ba1": None}
    for key, facets in chosen.items():
        if facets is not None:
            push.save_filter(_member(hub, city[key]), city[key], "我的筛选", facets)
    push.run(day)
    for key, facets in chosen.items():
        listed = selectors.for_enterprise(city[key].uscc, day, chosen=facets or {})
        assert told(city[key], day) == {r["version"].item.code for r in listed["met"]}, key
    assert told(city["ns1"], day) == {"M1", "M3"}  # M4 unknown, M5 closed, M2 and M6 outside its filter


def _member(hub, ent):
    """A user acting for ``ent`` (the conftest users act for ns1 and ft1; others get one)."""
    for user in (hub["enterprise"], hub["enterprise2"]):
        if user.enterprises.filter(pk=ent.pk).exists():
            return user
    return create_user(None, username=f"u{ent.pk}", password="x-Long-enough-9", role="enterprise",
                       check_password=False, enterprises=[ent])


def test_closing_reminder_seven_days_before_to_matching_enterprises_that_have_not_applied(hub, city):
    ent = city["ns1"]
    publish(hub, "APPLY", dt.date(2020, 3, 1), closes="2020-06-30")
    publish(hub, "AUTO", dt.date(2020, 3, 1), closes="2020-06-30", mode="auto")
    push.run(dt.date(2020, 3, 1))
    push.run(dt.date(2020, 6, 22))
    assert not PushEntry.objects.filter(reason="reminder").exists()
    from huiqi.policies.models import Application, ItemVersion

    version = ItemVersion.objects.get(item__code="APPLY")
    Application.objects.create(number="SQ-TEST-1", item=version.item, version=version, enterprise=city["ft1"],
                               submitted_on=dt.date(2020, 6, 20), due=dt.date(2020, 7, 1), sla_days=5)
    push.run(dt.date(2020, 6, 23))
    push.run(dt.date(2020, 6, 23))  # again: the day's messages are there, nothing is added twice
    assert told(ent, dt.date(2020, 6, 23), reason="reminder") == {"APPLY"}
    # ns1 and ns2; not ft1, which applied, nor the individual business, which does not match
    assert PushEntry.objects.filter(reason="reminder").count() == 2
    assert inbox(ent, dt.date(2020, 6, 23)).count() == 1


def test_states_sent_delivered_opened_failed_and_the_link(hub, city, settings, client):
    ent, day = city["ns1"], dt.date(2020, 3, 2)
    push.give_consent(hub["enterprise"], ent, "sms", "13800138000")
    push.give_consent(hub["enterprise"], ent, "email", "boss@example.com")
    publish(hub, "A", day)
    settings.HUIQI_PUSH_SENDER = "huiqi.policies.senders.FailingSender"
    counts = push.run(day)
    assert (counts["failed"], counts["sent"]) == (2, 0)
    email = PushMessage.objects.get(channel="email")
    assert email.state == "failed" and "unreachable" in email.error
    with pytest.raises(Conflict):
        push.record_receipt(email, "delivered")

    settings.HUIQI_PUSH_SENDER = "huiqi.policies.senders.MemorySender"
    publish(hub, "B", dt.date(2020, 3, 3))
    push.run(dt.date(2020, 3, 3))
    sms = PushMessage.objects.get(channel="sms", day=dt.date(2020, 3, 3))
    sent_sms = [text for channel, _address, _subject, text in MemorySender.outbox if channel == "sms"]
    assert sms.state == "sent" and f"/policies/m/{sms.token}/" in sent_sms[-1]
    push.record_receipt(sms, "delivered")
    assert client.get(f"/policies/m/{sms.token}/").status_code == 200
    sms.refresh_from_db()
    assert sms.state == "opened" and sms.delivered_at and sms.opened_at
    assert client.get("/policies/m/no-such-token/").status_code == 404


def test_inbox_pages_each_enterprise_its_own_and_reading_opens(hub, city, client_for):
    day = dt.date(2020, 3, 2)
    publish(hub, "A", day)
    push.run(day)
    own, other = inbox(city["ns1"]).get(), inbox(city["ft1"]).get()
    c = client_for("enterprise")
    assert 'data-figure="policy_unread">1<' in c.get("/").content.decode()
    page = c.get("/policies/inbox/").content.decode()
    assert f'data-message="{own.pk}"' in page and f'data-message="{other.pk}"' not in page
    assert c.get(f"/policies/inbox/{other.pk}/").status_code == 404
    assert c.get(f"/policies/inbox/{own.pk}/").status_code == 200
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.state == "opened" and other.opened_at is None
    assert 'data-figure="policy_unread">0<' in c.get("/").content.decode()
    assert c.get("/policies/push-log/").status_code == 403
    log = client_for("bureau").get("/policies/push-log/", {"uscc": city["ft1"].uscc}).content.decode()
    assert f'data-message="{other.pk}"' in log and f'data-message="{own.pk}"' not in log


def test_settings_page_records_consent_naming_bad_fields_and_unsubscribes(hub, city, client_for):
    c = client_for("enterprise")
    page = c.post("/policies/push-settings/", {"action": "consent", "c-channel": "sms", "c-address": "123"})
    text = page.content.decode()
    assert page.status_code == 200 and "id_c-address" in text and "id_c-agree" in text
    assert not selectors.push_settings(hub["enterprise"], city["ns1"])["consents"]
    c.post("/policies/push-settings/", {"action": "consent", "c-channel": "sms", "c-address": "13800138000",
                                        "c-agree": "on"})
    c.post("/policies/push-settings/", {"action": "unsubscribe", "u-scope": "channel", "u-channel": "email"})
    found = selectors.push_settings(hub["enterprise"], city["ns1"])
    assert [x.address for x in found["consents"]] == ["13800138000"]
    assert [(u.scope, u.channel) for u in found["unsubscriptions"]] == [("channel", "email")]
    assert 'data-consent="sms"' in c.get("/policies/push-settings/").content.decode()


def test_funnel_counts_views_pushes_and_opens_per_item(hub, city, client_for):
    day = dt.date(2020, 3, 2)
    publish(hub, "A", day)
    push.run(day)
    with clock.fixed(day):
        client_for("enterprise").get("/policies/items/A/")
        client_for("enterprise").get("/policies/items/A/")
        client_for("enterprise2").get("/policies/items/A/")
        client_for("bank").get("/policies/items/A/")
        client_for("bureau").get("/policies/items/A/")  # staff checking their item: not counted
    client_for("enterprise").get(f"/policies/inbox/{inbox(city['ns1']).get().pk}/")
    assert ItemView.objects.get(item__code="A", enterprise=city["ns1"]).count == 2
    figures = selectors.push_figures(day, day)
    assert figures["A"] == {"views": 2, "anonymous_views": 1, "pushes": 3, "opens": 1}
    assert selectors.push_figures(day + dt.timedelta(days=1), day + dt.timedelta(days=2)) == {}


def test_push_command_and_job(hub, city):
    from django.core.management import call_command
    from io import StringIO

    from huiqi.core import jobs

    publish(hub, "A", dt.date(2020, 3, 2))
    out = StringIO()
    call_command("policies", "push", "--on", "2020-03-02", stdout=out)
    assert "站内 inbox 3" in out.getvalue()
    publish(hub, "B", dt.date(2020, 3, 3))
    with pytest.raises(PermissionDenied):
        push.enqueue_run(hub["enterprise"], dt.date(2020, 3, 3))
    job = push.enqueue_run(hub["bureau"], dt.date(2020, 3, 3))
    jobs.run(job)
    job.refresh_from_db()
    assert job.status == "succeeded" and told(city["ns1"], dt.date(2020, 3, 3)) == {"B"}


def test_worked_example_publication_of_p3_pushes_to_e1_only_and_asks_e1_for_its_credit_status(hub):
    """The spec's example: P3 published → a new match for E1 only; P1 → E1 is asked (in the inbox only, even
    with SMS consent) for its credit status, E4 newly matches."""
    from huiqi.registry.models import Enterprise

    from . import factories
    from .example import ENTERPRISES, P1, P3

    ents = {name: factories.enterprise(f"91440300MA5PUSH{i:02d}X", facts, name=name)
            for i, (name, facts) in enumerate(sorted(ENTERPRISES.items()))}
    member = create_user(None, username="e1", password="x-Long-enough-9", role="enterprise", check_password=False,
                         enterprises=[ents["E1"]])
    push.give_consent(member, ents["E1"], "sms", "13800138000")
    day = dt.date(2020, 3, 2)
    publish(hub, "P3", day, criteria=P3)
    publish(hub, "P1", day, criteria=P1)
    push.run(day)
    by_name = dict(Enterprise.objects.values_list("pk", "name"))

    def who(code, reason):
        return {by_name[e] for e in PushEntry.objects.filter(item__code=code, reason=reason, message__channel="inbox")
                .values_list("message__enterprise_id", flat=True)} & set(ENTERPRISES)

    assert who("P3", "new_match") == {"E1"} and who("P1", "new_match") == {"E4"}
    assert who("P1", "ask") == {"E1"}
    assert PushEntry.objects.get(item__code="P1", reason="ask", message__enterprise=ents["E1"]).missing == [
        "credit_blacklisted"]
    assert told(ents["E1"], day, "sms") == {"P3"} and not PushEntry.objects.filter(message__channel="sms",
                                                                                   reason="ask").exists()


def test_receipt_command_records_a_delivery_and_refuses_an_illegal_one(hub, city):
    from io import StringIO

    from django.core.management import CommandError, call_command

    push.give_consent(hub["enterprise"], city["ns1"], "sms", "13800138000")
    publish(hub, "A", dt.date(2020, 3, 2))
    push.run(dt.date(2020, 3, 2))
    sms = PushMessage.objects.get(channel="sms")
    call_command("policies", "receipt", sms.token, "delivered", stdout=StringIO())
    sms.refresh_from_db()
    assert sms.state == "delivered" and sms.delivered_at is not None
    with pytest.raises(CommandError, match="不能记为"):
        call_command("policies", "receipt", sms.token, "failed", "--error", "number unreachable")
    with pytest.raises(CommandError):
        call_command("policies", "receipt", inbox(city["ns1"]).get().token, "delivered")


def test_the_bureau_runs_a_days_push_from_the_log_as_a_job(hub, city, client_for):
    from huiqi.core.models import Job

    publish(hub, "A", dt.date(2020, 3, 2))
    assert client_for("auditor").post("/policies/push-log/", {"day": "2020-03-02"}).status_code == 403
    response = client_for("bureau").post("/policies/push-log/", {"day": "2020-03-02"})
    job = Job.objects.get(kind="policies.push")
    assert response.status_code == 302 and response["Location"] == f"/core/jobs/{job.pk}/"
    assert job.params == {"on": "2020-03-02"}
    assert client_for("bureau").post("/policies/push-log/", {"day": "03/02"}).status_code == 302
    assert Job.objects.filter(kind="policies.push").count() == 1
