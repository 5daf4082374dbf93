"""For tests on real transactions (threads with their own connections): the rows the data
migrations created, seeded again. Such a test ends with a flush that empties every table (role
groups and permissions come back by themselves, from post_migrate; these rows do not), and with
--reuse-db the next run would start without them.

Use with `pytestmark = pytest.mark.usefixtures("migrated_data")` after importing both fixtures.
"""

import importlib

import pytest

DATA_MIGRATIONS = [
    ("matrix.migrations.0002_platform_registry", "seed"),
    ("approvals.migrations.0002_lexicons_screenings", "create_policy_version"),
    ("approvals.migrations.0005_default_workflows", "seed"),
]


def reseed():
    """Create what the data migrations create, where missing."""
    from django.apps import apps

    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(scope="session")
def reseeded_after_session(django_db_setup, django_db_blocker):
    yield
    with django_db_blocker.unblock():
        reseed()


@pytest.fixture
def migrated_data(reseeded_after_session, transactional_db):
    """A transactional database holding the platform registry, policy version and default workflows.

    No serialized rollback anywhere in the suite: restoring the rows serialized at the start would
    collide with the role groups, content types and permissions that post_migrate re-creates under
    new ids after every plain flush (the browser tests flush). Each test re-seeds what it needs."""
    reseed()
