# The content languages come from settings: no check constraint on them, longer codes
# (zh-hans), and a flag's reasons as {lang: text} instead of one column per language.

import kb.languages
from django.db import migrations, models


def reasons_from_columns(apps, schema_editor):
    Flag = apps.get_model("kb", "Flag")
    for flag in Flag.objects.all():
        flag.reasons = {"ja": flag.reason_ja, "en": flag.reason_en}
        flag.save(update_fields=["reasons"])


def columns_from_reasons(apps, schema_editor):
    Flag = apps.get_model("kb", "Flag")
    for flag in Flag.objects.all():
        flag.reason_ja, flag.reason_en = flag.reasons.get("ja", ""), flag.reasons.get("en", "")
        flag.save(update_fields=["reason_ja", "reason_en"])


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="revision", name="revision_lang_known"),
        migrations.AddField(model_name="flag", name="reasons", field=models.JSONField(default=dict)),
        migrations.RunPython(reasons_from_columns, columns_from_reasons),
        migrations.RemoveField(model_name="flag", name="reason_en"),
        migrations.RemoveField(model_name="flag", name="reason_ja"),
        migrations.AlterField(
            model_name="article",
            name="source_lang",
            field=models.CharField(default=kb.languages.source, max_length=10),
        ),
        migrations.AlterField(model_name="revision", name="lang", field=models.CharField(max_length=10)),
    ]
