"""An account failing the first time the help desk looked at it: "failing since ... at least".

An incident opens when the accounts sync first sees an account failing; for an account that was
already failing at the help desk's first look, that moment says nothing about when it began, and
"Failing since 17:09 (for 5 minutes)" beside "Last checked 3 days ago" was a made-up start. The
sync now notes it on the incident (``inbox/accounts/services/incidents.py``); here the open
incidents already recorded are noted the same way: no snapshot of the account before the incident
opened. Only incidents opened within the snapshots' retention (``HEALTH_SNAPSHOT_DAYS``) are
judged, as older snapshots are gone.
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.db.models import Exists, OuterRef
from django.utils import timezone


def note_first_looks(apps, schema_editor):
    incident = apps.get_model("inbox", "AccountIncident")
    snapshot = apps.get_model("inbox", "AccountSnapshot")
    earlier = snapshot.objects.filter(account_id=OuterRef("account_id"), taken_at__lt=OuterRef("opened_at"))
    kept_since = timezone.now() - timedelta(days=settings.HEALTH_SNAPSHOT_DAYS)
    incident.objects.filter(closed_at__isnull=True, opened_at__gte=kept_since).exclude(Exists(earlier)).update(
        at_first_look=True
    )


class Migration(migrations.Migration):
    dependencies = [("inbox", "0018_search_joined_words")]

    operations = [
        migrations.AddField(
            model_name="accountincident",
            name="at_first_look",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(note_first_looks, migrations.RunPython.noop),
    ]
