from django.core.management.base import BaseCommand

from campaigns.services import logins_ensure


class Command(BaseCommand):
    help = (
        "Create the admin and marketer logins if they do not exist, printing each "
        "new password once."
    )

    def handle(self, *args, **options):
        for login in logins_ensure():
            if login.password:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Created login “{login.username}” ({login.role}) with "
                        f"password: {login.password}"
                    )
                )
                self.stdout.write("  (shown only now; change it after logging in)")
            else:
                self.stdout.write(
                    f"Login “{login.username}” exists; reset its password with "
                    f"`python manage.py changepassword {login.username}`."
                )
