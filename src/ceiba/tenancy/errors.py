from enum import Enum


class TenancyError(Enum):
    UNKNOWN_HOST = "tenancy.unknown_host"
    NO_ADMINISTRATION = "tenancy.no_administration"
