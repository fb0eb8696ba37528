import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group

from .pg_private import private_database, private_server  # noqa: F401 - fixtures


def pytest_configure(config):
    # Real password hashing costs ~1 s per user; tests need no brute-force cost.
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    """Uploaded files go to a throwaway folder, never the developer's media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def roles_ensure() -> None:
    """The role groups as the latest role migration defines them.

    Transactional tests empty every table afterwards, groups included, while
    the permissions are recreated; later tests get the groups back from here.
    """
    from importlib import import_module

    from django.contrib.auth.models import Permission

    roles = import_module("campaigns.migrations.0012_roles_approver_viewer").ROLES
    for name, codenames in roles.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            group.permissions.set(
                Permission.objects.filter(
                    content_type__app_label="campaigns", codename__in=list(codenames)
                )
            )


@pytest.fixture
def marketer(django_user_model):
    user = django_user_model.objects.create_user(
        username="mara", password="pw-for-tests-only", is_staff=True
    )
    roles_ensure()
    user.groups.add(Group.objects.get(name="Marketer"))
    return user


@pytest.fixture
def marketer_client(client, marketer):
    client.force_login(marketer)
    return client


@pytest.fixture
def sandbox(settings):
    """The real Telesign sandbox on a free loopback port, used by the app."""
    from .sandbox_helpers import start_sandbox

    running = start_sandbox(callbacks_enabled=False, fetch_images=False)
    settings.TELESIGN_SANDBOX_URL = running.url
    settings.TELESIGN_CUSTOMER_ID = ""
    settings.TELESIGN_API_KEY = ""
    yield running
    running.stop()
