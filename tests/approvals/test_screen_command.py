"""`manage.py screen`: JSON lines in, one JSON line out per input, offline."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from approvals.models import Screening
from approvals.services import lexicon_create, lexicon_term_add

DEV_SET = Path("/work/shared/data/screening_dev.jsonl")


def run(lines, *args):
    stdin = io.BytesIO("".join(line + "\n" for line in lines).encode())
    out, err = io.StringIO(), io.StringIO()
    error = None
    try:
        call_command("screen", *args, stdin=stdin, stdout=out, stderr=err)
    except CommandError as exc:
        error = exc
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    return answers, err.getvalue(), error


@pytest.mark.skipif(not DEV_SET.exists(), reason="the shared dev set is not on this machine")
def test_every_line_of_the_dev_set_gets_an_answer_with_its_id_without_a_database():
    lines = DEV_SET.read_text(encoding="utf-8").splitlines()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", "SECRET_KEY": "test",
        # Nothing listens there: the command must not need the database.
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nowhere",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "screen", "--builtin-only"], input=DEV_SET.read_bytes(), capture_output=True,
        cwd=settings.BASE_DIR, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    inputs = [json.loads(line) for line in lines if line.strip()]
    answers = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [a["id"] for a in answers] == [i["id"] for i in inputs]
    for item, answer in zip(inputs, answers, strict=True):
        assert set(answer) == {"id", "decision", "hits"}
        assert answer["decision"] in {"pass", "review", "block"}
        assert (answer["decision"] == "pass") == (answer["hits"] == [])
        for hit in answer["hits"]:
            assert 0 <= hit["start"] < hit["end"] <= len(item["text"])
    assert "\\u" not in result.stdout.decode("utf-8")  # Chinese is written as is, not escaped


@pytest.mark.django_db
def test_company_lexicons_apply_and_nothing_is_recorded_by_default(admin_user, brand):
    company_wide = lexicon_create(actor=admin_user, brand=None, name="Everyone", category="confidential")
    lexicon_term_add(actor=admin_user, lexicon=company_wide, term="天穹计划")
    ours = lexicon_create(actor=admin_user, brand=brand, name="Rivals", category="competitor")
    lexicon_term_add(actor=admin_user, lexicon=ours, term="Borealis")
    lines = [json.dumps({"id": 1, "text": "天穹计划"}), json.dumps({"id": "b", "text": "Borealis is fine"})]

    answers, err, error = run(lines)
    assert (error, err) == (None, "")
    assert [(a["id"], a["decision"]) for a in answers] == [(1, "block"), ("b", "pass")]
    assert answers[0]["hits"][0]["category"] == "confidential"

    answers, _, _ = run(lines, "--brand", "aurora")
    assert [a["decision"] for a in answers] == ["block", "review"]

    answers, _, _ = run(lines, "--builtin-only")
    assert [a["decision"] for a in answers] == ["pass", "pass"]
    assert not Screening.objects.exists()


@pytest.mark.django_db
def test_record_keeps_each_screening(db):
    run([json.dumps({"id": 1, "text": "稳赚不赔", "tier": "dealer"})], "--record")
    screening = Screening.objects.get()
    assert (screening.source, screening.tier, screening.decision, screening.actor) == ("command", "dealer", "block", None)


@pytest.mark.django_db
def test_a_bad_line_is_reported_by_number_and_the_others_are_still_screened(db):
    lines = [
        json.dumps({"id": 1, "text": "稳赚不赔"}),
        "{not json",
        json.dumps({"id": 3}),
        "",
        json.dumps(["a list"]),
        json.dumps({"id": 6, "text": "hello", "tier": "galaxy"}),
        json.dumps({"id": 7, "text": "好" * 100_001}),
        json.dumps({"id": 8, "text": "你好"}),
    ]
    answers, err, error = run(lines)
    assert [a["id"] for a in answers] == [1, 8]
    reported = [line.split(":")[0] for line in err.splitlines()]
    assert reported == ["line 2", "line 3", "line 5", "line 6", "line 7"]
    assert '"text" is missing' in err and "tier" in err
    assert error is not None and "5 bad line(s) of 7" in str(error)


@pytest.mark.django_db
def test_a_line_that_is_not_utf8_is_reported(db):
    stdin = io.BytesIO(b'{"id": 1, "text": "\xff"}\n' + json.dumps({"id": 2, "text": "ok"}).encode() + b"\n")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError):
        call_command("screen", stdin=stdin, stdout=out, stderr=err)
    assert err.getvalue().startswith("line 1: not UTF-8")
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [2]


def test_builtin_only_cannot_record():
    with pytest.raises(CommandError):
        call_command("screen", "--builtin-only", "--record", stdin=io.BytesIO(b""))
