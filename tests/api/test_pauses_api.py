"""`GET, POST /api/v1/pauses/` and `POST /api/v1/pauses/{id}/lift/`: fields, filters, errors naming the
field, and who may see, pause and lift."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from approvals.models import AuditEvent
from content import services
from content.models import Pause

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
FIELDS = {"id", "brand", "scope", "value", "reason", "starts_at", "until", "created_by", "created_at", "lifted_at",
          "lifted_by", "lift_reason", "active"}


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def pause(actor, brand, scope="brand", value="", reason="Product recall", **extra):
    return services.pause_create(actor=actor, brand=brand, scope=scope, value=value, reason=reason, **extra)


def test_a_marketer_pauses_a_tier(client_for, marketer, brand):
    response = client_for(marketer).post("/api/v1/pauses/", {
        "brand": brand.pk, "scope": "tier", "value": "dealer", "reason": "Pricing error",
        "until": "2026-02-02T20:00:00+08:00",
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert (body["scope"], body["value"], body["active"], body["created_by"]) == ("tier", "dealer", True, marketer.pk)
    assert body["until"] is not None and body["lifted_at"] is None
    assert Pause.objects.get().until == datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
    assert AuditEvent.objects.filter(action="content.pause.create", object_id=str(body["id"])).exists()


def test_a_reviewer_pauses_the_whole_brand_without_a_value(client_for, reviewer, brand):
    response = client_for(reviewer).post("/api/v1/pauses/", {"brand": brand.pk, "scope": "brand", "reason": "Crisis"},
                                         format="json")
    assert response.status_code == 201 and response.json()["value"] == ""


@pytest.mark.parametrize(("payload", "field"), [
    ({"scope": "tier", "value": "vip"}, "value"),
    ({"scope": "platform", "value": "myspace"}, "value"),
    ({"scope": "region", "value": "Atlantis"}, "value"),
    ({"scope": "account", "value": "999999"}, "value"),
    ({"scope": "galaxy", "value": "x"}, "scope"),
    ({"scope": "brand", "reason": ""}, "reason"),
    ({"scope": "brand", "until": "2026-02-02T08:00:00Z"}, "until"),
    ({"scope": "brand", "until": "2026-02-03T08:00:00"}, "until"),  # no offset
])
def test_errors_name_the_field(client_for, marketer, brand, payload, field):
    data = {"brand": brand.pk, "reason": "Crisis", **payload}
    response = client_for(marketer).post("/api/v1/pauses/", data, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert not Pause.objects.exists()


@pytest.mark.parametrize("role", ["employee", "executive", "dealer_operator"])
def test_other_roles_cannot_pause(client_for, request, brand, role):
    response = client_for(request.getfixturevalue(role)).post(
        "/api/v1/pauses/", {"brand": brand.pk, "scope": "brand", "reason": "x"}, format="json")
    assert response.status_code == 403
    assert not Pause.objects.exists()


def test_another_brand_is_unknown_to_a_marketer(client_for, outsider, brand):
    response = client_for(outsider).post("/api/v1/pauses/", {"brand": brand.pk, "scope": "brand", "reason": "x"},
                                         format="json")
    assert response.status_code == 400 and list(response.json()) == ["brand"]


def test_lift_once(client_for, marketer, reviewer, brand):
    created = pause(marketer, brand)
    response = client_for(reviewer).post(f"/api/v1/pauses/{created.pk}/lift/", {"reason": "Resolved"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["active"], body["lifted_by"], body["lift_reason"]) == (False, reviewer.pk, "Resolved")
    again = client_for(marketer).post(f"/api/v1/pauses/{created.pk}/lift/", {}, format="json")
    assert again.status_code == 400
    assert AuditEvent.objects.filter(action="content.pause.lift").count() == 1


def test_an_employee_sees_a_pause_covering_their_account_but_cannot_lift_it(client_for, marketer, employee, brand,
                                                                            employee_account, dealer_account):
    created = pause(marketer, brand, "account", str(employee_account.pk))
    pause(marketer, brand, "tier", "dealer")
    api = client_for(employee)
    assert [p["id"] for p in api.get("/api/v1/pauses/").json()["results"]] == [created.pk]
    assert api.get(f"/api/v1/pauses/{created.pk}/").status_code == 200
    assert api.post(f"/api/v1/pauses/{created.pk}/lift/", {}, format="json").status_code == 403


def test_another_brands_pauses_are_not_found(client_for, marketer, outsider, brand):
    created = pause(marketer, brand)
    api = client_for(outsider)
    assert api.get("/api/v1/pauses/").json()["count"] == 0
    assert api.get(f"/api/v1/pauses/{created.pk}/").status_code == 404
    assert api.post(f"/api/v1/pauses/{created.pk}/lift/", {}, format="json").status_code == 404


def test_filters(client_for, admin_user, marketer, brand, other_brand, frozen_time):
    lifted = pause(marketer, brand, "tier", "dealer")
    services.pause_lift(actor=marketer, pause=lifted)
    ending = pause(marketer, brand, "platform", "weibo", until=NOW + timedelta(minutes=5))
    ours = pause(marketer, brand)
    theirs = pause(admin_user, other_brand)
    frozen_time.move_to(NOW + timedelta(minutes=10))
    api = client_for(admin_user)

    def ids(query):
        response = api.get(f"/api/v1/pauses/?{query}")
        assert response.status_code == 200, response.json()
        return {p["id"] for p in response.json()["results"]}

    assert ids("active=true") == {ours.pk, theirs.pk}
    assert ids("active=false") == {lifted.pk, ending.pk}
    assert ids("scope=platform") == {ending.pk}
    assert ids("brand=aurora") == {lifted.pk, ending.pk, ours.pk}
    assert ids(f"brand={other_brand.pk}&active=true") == {theirs.pk}
    assert api.get("/api/v1/pauses/?scope=galaxy").status_code == 400
    listed = {p["id"]: p["active"] for p in api.get("/api/v1/pauses/").json()["results"]}
    assert listed == {lifted.pk: False, ending.pk: False, ours.pk: True, theirs.pk: True}


def test_the_schema_documents_the_routes(admin_api):
    schema = admin_api.get("/api/schema/?format=json").json()
    assert {"/api/v1/pauses/", "/api/v1/pauses/{id}/lift/"} <= set(schema["paths"])
