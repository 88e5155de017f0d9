from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_chosen_presence_kept_across_sign_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="time_zone",
            field=models.CharField(
                blank=True,
                default="",
                help_text="The time zone the pages show times in (an IANA name); blank: the desk's.",
                max_length=64,
            ),
        ),
    ]
