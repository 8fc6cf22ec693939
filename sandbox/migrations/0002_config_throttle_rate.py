from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sandbox', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='config',
            name='throttle_rate',
            field=models.FloatField(default=0.0),
        ),
    ]
