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


class Side(models.TextChoices):
    CRO = "cro", "CRO services"
    CMO = "cmo", "CMO services"


class CertificationType(models.TextChoices):
    GMP = "gmp", "GMP"
    GLP = "glp", "GLP"
    GCP = "gcp", "GCP"
    GDP = "gdp", "GDP"
    ISO_9001 = "iso-9001", "ISO 9001"
    ISO_13485 = "iso-13485", "ISO 13485"
    ISO_27001 = "iso-27001", "ISO 27001"
    ISO_14001 = "iso-14001", "ISO 14001"
    OTHER = "other", "Other"


class Authority(models.TextChoices):
    FDA = "fda", "FDA (US)"
    EMA = "ema", "EMA (EU)"
    MHRA = "mhra", "MHRA (UK)"
    PMDA = "pmda", "PMDA (Japan)"
    HEALTH_CANADA = "health-canada", "Health Canada"
    TGA = "tga", "TGA (Australia)"
    SWISSMEDIC = "swissmedic", "Swissmedic"
    NMPA = "nmpa", "NMPA (China)"
    CDSCO = "cdsco", "CDSCO (India)"
    NATIONAL = "national", "National competent authority (EU)"
    ISO_BODY = "iso-body", "Accredited ISO certification body"
    OTHER = "other", "Other"


class CertificateStatus(models.TextChoices):
    VALID = "valid", "Valid"
    EXPIRING = "expiring", "Expiring within 90 days"
    EXPIRED = "expired", "Expired"
