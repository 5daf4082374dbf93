"""No test sees the screening policy another test compiled (the root conftest resets it).

The two tests run in this order. The first compiles a company-wide term into this process's policy;
its database changes are rolled back. The second runs at the same moment of the engine's clock, so
without the reset the process would trust the version it read in the first test and keep screening
with the first test's term."""

import pytest

from approvals import engine
from approvals.services import lexicon_create, lexicon_term_add

pytestmark = pytest.mark.django_db

TEXT = "下周发布天穹计划"


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(engine, "clock", lambda: 5000.0)


def test_1_a_company_term_is_screened_while_its_lexicon_exists(frozen_clock, admin_user):
    lexicon = lexicon_create(actor=admin_user, brand=None, name="Code names", category="confidential")
    lexicon_term_add(actor=admin_user, lexicon=lexicon, term="天穹计划")
    assert engine.current_policy(None).screen(TEXT).decision == "block"


def test_2_the_next_test_does_not_screen_with_the_previous_tests_terms(frozen_clock, db):
    assert engine.current_policy(None).screen(TEXT).decision == "pass"
