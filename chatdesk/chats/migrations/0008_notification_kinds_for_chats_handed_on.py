from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chats', '0007_notification_actor_note_and_reassigned_kind'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='notification',
            name='notification_kind_valid',
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('mention', 'Mentioned in a comment'), ('assigned', 'A chat was assigned to you'), ('transferred', 'A chat was transferred to you'), ('reassigned', 'A chat of yours went to another agent'), ('disconnected', 'Your chat went to others: you were disconnected'), ('unanswered', 'Your chat went to another agent: its first message was unanswered')], max_length=16),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['mention', 'assigned', 'transferred', 'reassigned', 'disconnected', 'unanswered'])), name='notification_kind_valid'),
        ),
    ]
