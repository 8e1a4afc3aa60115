from django.apps import AppConfig


class CroCmoConfig(AppConfig):
    name = "cro_cmo"
    verbose_name = "cro_cmo platform"
