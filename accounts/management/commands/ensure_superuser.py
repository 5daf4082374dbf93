"""Create the admin from DJANGO_SUPERUSER_USERNAME/EMAIL/PASSWORD unless it exists already."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from accounts.services import _sync_role_group


class Command(BaseCommand):
    help = "Create the superuser from DJANGO_SUPERUSER_* variables if it does not exist (idempotent)."

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME")
        if not username:
            raise CommandError("DJANGO_SUPERUSER_USERNAME is not set.")
        if not os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            raise CommandError("DJANGO_SUPERUSER_PASSWORD is not set: the admin could not log in.")
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin {username} exists already.")
            return
        call_command("createsuperuser", interactive=False, verbosity=0)
        user = User.objects.get(username=username)
        user.role = Role.ADMIN
        user.save(update_fields=["role"])
        _sync_role_group(user)
        self.stdout.write(self.style.SUCCESS(f"Admin {username} created."))
