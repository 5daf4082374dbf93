"""What the people API reads and writes. Rules live in the services; these only shape data."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from .models import User


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True,
        required=False,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=_("Optional. Without one, an invitation to choose a password is emailed."),
    )

    class Meta:
        model = User
        fields = [
            "id", "username", "email", "first_name", "last_name", "role", "brand", "department", "dealer", "title",
            "timezone", "is_active", "offboarded_at", "date_joined", "password",
        ]
        read_only_fields = ["is_active", "offboarded_at", "date_joined"]
        extra_kwargs = {
            # Usernames are unique ignoring case, as on the registration page.
            "username": {
                "validators": [
                    UnicodeUsernameValidator(),
                    UniqueValidator(User.objects.all(), lookup="iexact", message=_("This username is taken.")),
                ]
            },
        }

    def validate(self, attrs):
        if self.instance is not None:
            if "password" in attrs:
                # A password is the person's own: they set it from an invitation or a reset link.
                raise serializers.ValidationError(
                    {"password": [_("A password cannot be changed here; the person resets it themselves.")]}
                )
        elif not attrs.get("password") and not attrs.get("email"):
            raise serializers.ValidationError(
                {"email": [_("Give an email address to send the invitation to, or a password.")]}
            )
        return attrs

