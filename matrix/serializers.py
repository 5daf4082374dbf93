"""What the matrix API reads and writes. Rules live in the services; these only shape data."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import User

from .models import AccountStatus, Brand, Dealer, Platform, SocialAccount, Tier


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "slug", "timezone", "created_at"]
        read_only_fields = ["created_at"]


class DealerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dealer
        fields = ["id", "brand", "name", "code", "region", "city"]
        # Replaces the generated "brand, code must make a unique set": the answer names `code`.
        validators = []

    def validate(self, attrs):
        brand = attrs.get("brand", getattr(self.instance, "brand", None))
        code = attrs.get("code", getattr(self.instance, "code", None))
        taken = Dealer.objects.filter(brand=brand, code=code)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError({"code": [_("This brand already has a dealer with this code.")]})
        return attrs


class PlatformSerializer(serializers.ModelSerializer):
    class Meta:
        model = Platform
        fields = ["slug", "name", "name_zh", "text_limit", "media_rules", "has_open_api"]


class SocialAccountSerializer(serializers.ModelSerializer):
    platform = serializers.SlugRelatedField(slug_field="slug", queryset=Platform.objects.all())
    platform_name = serializers.CharField(source="platform.name", read_only=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True,
        help_text=_("The person whose account it is (executive and employee tiers)."),
    )
    operators = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), many=True, required=False,
        help_text=_("Staff who operate the account."),
    )
    webhook_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=200, trim_whitespace=False,
        style={"input_type": "password"},
        help_text=_("Write-only: never returned. Omit it to keep the current secret."),
    )

    class Meta:
        model = SocialAccount
        fields = [
            "id", "brand", "platform", "platform_name", "handle", "display_name", "tier", "ownership", "status",
            "owner", "dealer", "department", "operators", "timezone", "publisher", "webhook_url", "webhook_secret",
            "consented_at", "consent_withdrawn_at", "archived_at", "created_at", "updated_at",
        ]
        # Ownership follows from the tier (executive and employee accounts are personal).
        read_only_fields = ["ownership", "consented_at", "consent_withdrawn_at", "archived_at", "created_at",
                            "updated_at"]
        extra_kwargs = {
            "status": {"help_text": _("A personal account becomes active only through its owner's consent; "
                                      "set `archived` to take an account out of the matrix.")},
        }
        # The services validate every database constraint and name the field in their errors.
        validators = []


class MatrixCountSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=Tier.choices)
    platform = serializers.SlugField()
    status = serializers.ChoiceField(choices=AccountStatus.choices)
    count = serializers.IntegerField()


class DormantSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    count = serializers.IntegerField()


class MatrixSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_tier = serializers.DictField(child=serializers.IntegerField())
    counts = MatrixCountSerializer(many=True)
    dormant = DormantSerializer()


class MatrixSummaryQuerySerializer(serializers.Serializer):
    brand = serializers.CharField(required=False, help_text=_("Brand slug or id; all visible brands when omitted."))
    dormant_days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=3650)
