from django.db import models


class VendorKind(models.TextChoices):
    CRO = "cro", "CRO"
    CMO = "cmo", "CMO"
    CDMO = "cdmo", "CDMO"


class HeadcountBand(models.TextChoices):
    MICRO = "1-49", "1–49"
    SMALL = "50-249", "50–249"
    MEDIUM = "250-999", "250–999"
    LARGE = "1000-4999", "1,000–4,999"
    XL = "5000+", "5,000+"
