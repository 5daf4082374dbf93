from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("content", "0005_pause"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="reminded_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="reminded"),
        ),
    ]
