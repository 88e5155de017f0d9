from django.db import migrations, models


def keep_current_choice(apps, schema_editor):
    """An agent who is Away now comes back Away; everyone else starts Available."""
    User = apps.get_model("accounts", "User")
    User.objects.filter(presence="away").update(chosen_presence="away")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_users_connections_and_api_tokens'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('routing', '0001_departments_and_business_hours'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='chosen_presence',
            field=models.CharField(choices=[('available', 'Available'), ('away', 'Away')], default='available', help_text='What the agent last chose (Available or Away); restored when they sign in.', max_length=16),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(('chosen_presence__in', ['available', 'away'])), name='user_chosen_presence_valid'),
        ),
        migrations.RunPython(keep_current_choice, migrations.RunPython.noop),
    ]
