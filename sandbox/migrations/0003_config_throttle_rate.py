from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sandbox', '0002_config_dir_convention_echo_businesses_denied'),
    ]

    operations = [
        migrations.AddField(
            model_name='config',
            name='throttle_rate',
            field=models.FloatField(default=0.0),
        ),
    ]
