"""The screening API: POST /api/v1/screenings/ and the lexicons with their terms."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token

from approvals import engine
from approvals.models import AuditEvent, Lexicon, Screening
from approvals.services import lexicon_create, lexicon_term_add
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def code_names(admin_user, brand):
    lexicon = lexicon_create(actor=admin_user, brand=brand, name="Code names", category="confidential")
    lexicon_term_add(actor=admin_user, lexicon=lexicon, term="天穹计划", note="删除")
    return lexicon


# --- screenings -------------------------------------------------------------------------------


def test_a_text_is_screened_and_recorded(client_for, employee):
    text = "🚗 全网最低價！稳*赚不赔，加 V：car888"
    response = client_for(employee).post("/api/v1/screenings/", {"text": text}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "block"
    assert body["policy_version"] == engine.read_stamp()[0]
    for hit in body["hits"]:
        assert set(hit) == {"category", "severity", "term", "start", "end", "message"}
    typed = {hit["term"]: text[hit["start"]:hit["end"]] for hit in body["hits"]}
    # Offsets index the text as sent: the emoji, the traditional 價 and the * are where they were.
    assert typed["最低价"] == "最低價"
    assert typed["稳赚不赔"] == "稳*赚不赔"
    screening = Screening.objects.get(pk=body["id"])
    assert (screening.text, screening.source, screening.actor, screening.decision) == (text, "api", employee, "block")
    assert screening.hits == body["hits"]


def test_a_clean_text_passes(client_for, employee):
    body = client_for(employee).post("/api/v1/screenings/", {"text": "周末来店里试驾新车"}, format="json").json()
    assert (body["decision"], body["hits"]) == ("pass", [])


def test_token_authentication_works(api_client, employee):
    token = Token.objects.create(user=employee)
    response = api_client.post(
        "/api/v1/screenings/", {"text": "hello"}, format="json", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 200


def test_signed_out_callers_are_refused(api_client, db):
    assert api_client.post("/api/v1/screenings/", {"text": "hello"}, format="json").status_code in (401, 403)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "好" * 100_001}, "text"),
        ({"text": "hi", "tier": "galaxy"}, "tier"),
        ({"text": "hi", "account": 999_999}, "account"),
        ({"text": "hi", "account": "abc"}, "account"),
    ],
)
def test_bad_input_answers_400_naming_the_field(client_for, employee, payload, field):
    response = client_for(employee).post("/api/v1/screenings/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert isinstance(response.json()[field][0], str)
    assert not Screening.objects.exists()


def test_an_account_the_caller_cannot_see_is_unknown(client_for, employee, other_brand):
    hidden = SocialAccountFactory(brand=other_brand)
    response = client_for(employee).post("/api/v1/screenings/", {"text": "hi", "account": hidden.pk}, format="json")
    missing = client_for(employee).post("/api/v1/screenings/", {"text": "hi", "account": 999_999}, format="json")
    assert response.status_code == missing.status_code == 400
    # The same answer as for an account that does not exist, apart from the id.
    assert response.json()["account"][0].replace(str(hidden.pk), "N") == missing.json()["account"][0].replace(
        "999999", "N"
    )


def test_the_lexicons_of_the_accounts_brand_apply(client_for, admin_user, marketer, brand, other_brand, code_names):
    ours = SocialAccountFactory(brand=brand, tier="dealer")
    theirs = SocialAccountFactory(brand=other_brand)
    client = client_for(admin_user)
    body = client.post("/api/v1/screenings/", {"text": "天穹计划来了", "account": ours.pk}, format="json").json()
    assert body["decision"] == "block"
    assert body["hits"][0]["category"] == "confidential" and "删除" in body["hits"][0]["message"]
    assert Screening.objects.get(pk=body["id"]).tier == "dealer"
    body = client.post("/api/v1/screenings/", {"text": "天穹计划来了", "account": theirs.pk}, format="json").json()
    assert body["decision"] == "pass"
    # Without an account: the caller's brand.
    assert client_for(marketer).post("/api/v1/screenings/", {"text": "天穹计划"}, format="json").json()["decision"] == (
        "block"
    )


def test_a_tier_that_contradicts_the_account_is_refused(client_for, admin_user, brand):
    account = SocialAccountFactory(brand=brand, tier="self_operated")
    response = client_for(admin_user).post(
        "/api/v1/screenings/", {"text": "hi", "account": account.pk, "tier": "dealer"}, format="json"
    )
    assert response.status_code == 400 and "tier" in response.json()


def test_a_new_term_applies_to_the_next_screening(client_for, admin_user, marketer, code_names):
    client = client_for(marketer)
    assert client.post("/api/v1/screenings/", {"text": "北极星"}, format="json").json()["decision"] == "pass"
    lexicon_term_add(actor=admin_user, lexicon=code_names, term="北极星")
    assert client.post("/api/v1/screenings/", {"text": "北极星"}, format="json").json()["decision"] == "block"


# --- lexicons ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status", [("admin_user", 200), ("reviewer", 200), ("marketer", 200), ("employee", 403),
                     ("executive", 403), ("dealer_operator", 403)],
)
def test_who_reads_the_lexicons(client_for, request, code_names, role, status):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/api/v1/lexicons/").status_code == status
    assert client.get(f"/api/v1/lexicons/{code_names.pk}/").status_code == status
    assert client.get(f"/api/v1/lexicons/{code_names.pk}/terms/").status_code == status


def test_the_list_shows_term_counts(client_for, admin_user, code_names):
    lexicon_term_add(actor=admin_user, lexicon=code_names, term="第一次", allow=True)
    body = client_for(admin_user).get("/api/v1/lexicons/").json()
    assert body["count"] == 1
    (item,) = body["results"]
    assert (item["name"], item["brand"], item["term_count"], item["allow_count"]) == (
        "Code names", code_names.brand_id, 1, 1
    )


def test_a_lexicon_of_another_brand_is_not_found(client_for, outsider, code_names):
    client = client_for(outsider)
    assert client.get(f"/api/v1/lexicons/{code_names.pk}/").status_code == 404
    assert client.get("/api/v1/lexicons/").json()["count"] == 0


def test_a_reviewer_creates_and_changes_a_lexicon_of_their_brand(client_for, reviewer, brand):
    client = client_for(reviewer)
    response = client.post(
        "/api/v1/lexicons/", {"brand": brand.pk, "name": "Rivals", "category": "competitor", "severity": "review"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    lexicon_id = response.json()["id"]
    response = client.patch(f"/api/v1/lexicons/{lexicon_id}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert [e.action for e in AuditEvent.objects.filter(object_id=str(lexicon_id))] == [
        "approvals.lexicon.create", "approvals.lexicon.update"
    ]


def test_a_reviewer_cannot_create_for_another_brand_or_company_wide(client_for, reviewer, other_brand):
    client = client_for(reviewer)
    for brand in (other_brand.pk, None):
        response = client.post(
            "/api/v1/lexicons/", {"brand": brand, "name": "Rivals", "category": "competitor"}, format="json"
        )
        assert response.status_code == 403
    assert not Lexicon.objects.exists()


@pytest.mark.parametrize("role", ["marketer", "employee"])
def test_other_roles_cannot_write(client_for, request, code_names, role):
    client = client_for(request.getfixturevalue(role))
    assert client.post("/api/v1/lexicons/", {"name": "x", "category": "competitor"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/lexicons/{code_names.pk}/", {"name": "y"}, format="json").status_code == 403
    assert client.post(f"/api/v1/lexicons/{code_names.pk}/terms/", {"term": "z"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/lexicons/{code_names.pk}/terms/?term=天穹计划").status_code == 403
    assert code_names.terms.count() == 1


def test_bad_lexicon_input_names_the_field(client_for, admin_user, brand, code_names):
    client = client_for(admin_user)
    response = client.post("/api/v1/lexicons/", {"brand": brand.pk, "name": "Code Names", "category": "confidential"},
                           format="json")
    assert response.status_code == 400 and list(response.json()) == ["name"]
    response = client.post("/api/v1/lexicons/", {"name": "X", "category": "Not a slug"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["category"]
    response = client.post("/api/v1/lexicons/", {"name": "X", "category": "competitor", "severity": "fatal"},
                           format="json")
    assert response.status_code == 400 and list(response.json()) == ["severity"]
    response = client.patch(f"/api/v1/lexicons/{code_names.pk}/", {"brand": None}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["brand"]


def test_terms_are_added_listed_and_removed(client_for, reviewer, code_names):
    client = client_for(reviewer)
    url = f"/api/v1/lexicons/{code_names.pk}/terms/"
    response = client.post(url, {"term": "北极星", "severity": "review", "note": "改称“新车型”"}, format="json")
    assert response.status_code == 201
    added = response.json()
    assert (added["term"], added["allow"], added["severity"], added["created_by"]) == ("北极星", False, "review",
                                                                                      reviewer.pk)
    assert client.post(url, {"term": "第一次", "allow": True}, format="json").status_code == 201
    listed = client.get(url).json()
    assert listed["count"] == 3 and [t["term"] for t in listed["results"]] == ["北极星", "天穹计划", "第一次"]
    assert client.get(url, {"q": "北"}).json()["count"] == 1

    assert client.delete(url, {"term": "北 极 星"}, format="json").status_code == 204
    assert client.delete(f"{url}?id={added['id'] + 1}").status_code == 204
    assert list(code_names.terms.values_list("term", flat=True)) == ["天穹计划"]


def test_bad_term_input_names_the_field(client_for, admin_user, code_names):
    client = client_for(admin_user)
    url = f"/api/v1/lexicons/{code_names.pk}/terms/"
    assert list(client.post(url, {"term": "天穹計劃"}, format="json").json()) == ["term"]  # already there
    assert list(client.post(url, {"term": "***"}, format="json").json()) == ["term"]
    assert list(client.post(url, {}, format="json").json()) == ["term"]
    assert list(client.post(url, {"term": "x", "severity": "bad"}, format="json").json()) == ["severity"]
    response = client.delete(url)
    assert response.status_code == 400 and list(response.json()) == ["term"]
    response = client.delete(url, {"term": "nothing"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["term"]


def test_terms_are_imported_from_a_file(client_for, admin_user, code_names):
    client = client_for(admin_user)
    url = f"/api/v1/lexicons/{code_names.pk}/terms/import/"
    upload = SimpleUploadedFile("w.txt", "北极星\nPolaris\twarn\n".encode("gb18030"))
    response = client.post(url, {"file": upload}, format="multipart")
    assert response.status_code == 200
    assert response.json() | {"policy_version": 0} == {
        "added": 2, "already_present": 0, "duplicates": 0, "encoding": "GB18030", "policy_version": 0
    }
    bad = SimpleUploadedFile("w.txt", "好\n坏\tfatal\n".encode())
    response = client.post(url, {"file": bad}, format="multipart")
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("line 2:")
    assert code_names.terms.count() == 3


def test_the_schema_of_the_screening_api_generates_without_warnings():
    GENERATOR_STATS.reset()
    patterns = [path("api/v1/", include("approvals.api_urls"))]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    assert set(schema["paths"]) == {
        "/api/v1/screenings/", "/api/v1/lexicons/", "/api/v1/lexicons/{id}/", "/api/v1/lexicons/{id}/terms/",
        "/api/v1/lexicons/{id}/terms/import/", "/api/v1/audit-events/", "/api/v1/audit-events/{id}/",
    }
    assert set(schema["paths"]["/api/v1/lexicons/{id}/terms/"]) >= {"get", "post", "delete"}
