from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and access")

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import ensure_role_groups

        # After every app's migrate signal, not only ours: the permissions of apps migrated after
        # this one (matrix, content…) exist only then.
        post_migrate.connect(ensure_role_groups, dispatch_uid="accounts.ensure_role_groups")
