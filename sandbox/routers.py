"""The sandbox stands in for a remote system: its tables live in their own database."""


class SandboxRouter:
    app_label = "sandbox"
    alias = "sandbox"

    def db_for_read(self, model, **hints):
        return self.alias if model._meta.app_label == self.app_label else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        labels = {obj1._meta.app_label, obj2._meta.app_label}
        return None if labels != {self.app_label} else True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == self.app_label:
            return db == self.alias
        return db != self.alias
