"""What data migrations share: giving the `ops` group an app's new permissions.

A migration that adds permissions to the ops group (orders/ops_group.py lists them all) calls
`grant_to_ops(app_label, codenames)` for its RunPython. The codenames are frozen in the
migration itself, as a migration must not read today's code to know yesterday's list.
"""

from django.contrib.auth.management import create_permissions


def grant_to_ops(app_label, codenames):
    def grant(apps, schema_editor):
        db = schema_editor.connection.alias
        config = apps.get_app_config(app_label)
        config.models_module = True  # a historical app config: create_permissions skips it otherwise
        create_permissions(config, apps=apps, verbosity=0, using=db)
        config.models_module = None
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        group, _ = Group.objects.using(db).get_or_create(name="ops")
        group.permissions.add(*Permission.objects.using(db).filter(content_type__app_label=app_label,
                                                                   codename__in=codenames))

    return grant
