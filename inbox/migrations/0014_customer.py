"""The customers table, for finding a customer by name, e-mail or company, filled from the messages.

The backfill reads the live messages once, by customer and newest first (the msg_customer_newest
index of 0003), with the same code the messages sync keeps the table up to date with
(``inbox.sync.customers.refresh_customers``), given this migration's historical models. At a
million messages and 20,000 customers it takes a few seconds.

On PostgreSQL the search key gets a trigram index (``inbox/platform/customer_search.py``), so a
part of a name is found without reading every customer.
"""

from django.db import migrations, models

from inbox.platform.customer_search import create_search_index, drop_search_index


def backfill(apps, schema_editor):
    from inbox.sync.customers import refresh_customers

    refresh_customers(
        None,
        message_model=apps.get_model("inbox", "CoworkerMessage"),
        customer_model=apps.get_model("inbox", "Customer"),
    )


class Migration(migrations.Migration):
    dependencies = [("inbox", "0013_message_awaiting_reply")]

    operations = [
        migrations.CreateModel(
            name="Customer",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("full_name", models.CharField(blank=True, default="", max_length=255)),
                ("email", models.CharField(blank=True, default="", max_length=320)),
                ("company", models.CharField(blank=True, default="", max_length=255)),
                ("search_key", models.TextField(blank=True, default="")),
                ("last_message_at", models.DateTimeField(blank=True, null=True)),
                ("message_count", models.PositiveIntegerField(default=0)),
            ],
            options={"ordering": ["-last_message_at", "-id"]},
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
