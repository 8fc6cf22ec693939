from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0010_admin_action'),
    ]

    operations = [
        migrations.AddField(
            model_name='syncrun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='syncrun',
            name='restarts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
