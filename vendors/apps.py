from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "vendors"

    def ready(self):
        from vendors import signals  # noqa: F401  (the directory's revision follows every indexed write)
