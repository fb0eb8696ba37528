"""The groups that give people their role; applied by migrations."""


def roles_sync(apps, roles: dict[str, list[str]]):
    """Make each role group hold exactly its permissions (idempotent).

    Migrations pass the roles as they were at that migration, so an old
    migration never asks for a permission whose model does not exist yet.
    """
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; create them now
    # so the groups can reference them on a fresh database.
    app_config = apps.get_app_config("campaigns")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in roles.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = Permission.objects.filter(
            content_type__app_label="campaigns", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Unknown permissions for {group_name}: {missing}")
        group.permissions.set(permissions)
