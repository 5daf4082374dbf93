"""The language a person chooses with the switcher is remembered on them: their emails come in it,
and so do the pages on a browser of theirs that has not chosen one."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from content import tasks
from content.models import Notification

pytestmark = pytest.mark.django_db


def test_the_switcher_saves_the_choice_on_the_signed_in_user(client, employee):
    client.force_login(employee)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    employee.refresh_from_db()
    assert employee.language == "zh-hans"


def test_an_unknown_language_is_not_saved(client, employee):
    client.force_login(employee)
    client.post("/i18n/setlang/", {"language": "klingon", "next": "/"})
    employee.refresh_from_db()
    assert employee.language == ""


def test_a_visitor_switching_changes_only_the_cookie(client):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


def test_a_new_browser_shows_the_users_language_until_it_chooses_another(employee):
    employee.language = "zh-hans"
    employee.save(update_fields=["language"])
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(employee)
    assert '<html lang="zh-hans">' in browser.get("/posts/").content.decode()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert '<html lang="en">' in browser.get("/posts/").content.decode()


def test_notification_emails_come_in_the_recipients_language(employee):
    employee.language = "zh-hans"
    employee.save(update_fields=["language"])
    note = Notification.objects.create(user=employee, kind="approved", message="已通过")
    tasks.notifications_email([note.pk])
    (email,) = mail.outbox
    assert email.subject.startswith("[Social Matrix] ")
    subject = email.subject.removeprefix("[Social Matrix] ")
    assert subject and all(not ch.isascii() for ch in subject.replace(" ", "")), subject
