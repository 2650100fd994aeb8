"""Log-source routing: which Sigma ``logsource`` applies to which event.

The Windows part is derived from SigmaHQ's ``tests/thor.yml`` (the mapping THOR and SPARK use):
a Sysmon/Security/PowerShell/Defender event with a given channel and event id belongs to the
categories listed there, and the channel names a service. ``tests/soc/sigma/test_logsource.py``
checks this table against ``thor.yml`` so the two cannot drift apart. See ``docs/soc.md``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sigma.rule import SigmaLogSource

# Derived from thor.yml: (category, service, EventIDs, EventType or None, fieldmappings)
_CATEGORY_EVENTS: tuple[tuple[str, str, tuple[int, ...], str | None, dict[str, str]], ...] = (
    ("process_creation", "sysmon", (1,), None, {}),
    (
        "process_creation",
        "security",
        (4688,),
        None,
        {"Image": "NewProcessName", "ParentImage": "ParentProcessName"},
    ),
    ("file_change", "sysmon", (2,), None, {}),
    ("network_connection", "sysmon", (3,), None, {}),
    ("sysmon_status", "sysmon", (4,), None, {}),
    ("sysmon_status", "sysmon", (16,), None, {}),
    ("process_termination", "sysmon", (5,), None, {}),
    ("driver_load", "sysmon", (6,), None, {}),
    ("image_load", "sysmon", (7,), None, {}),
    ("create_remote_thread", "sysmon", (8,), None, {}),
    ("raw_access_thread", "sysmon", (9,), None, {}),
    ("process_access", "sysmon", (10,), None, {}),
    ("file_event", "sysmon", (11,), None, {}),
    ("registry_event", "sysmon", (12,), None, {}),
    ("registry_event", "sysmon", (13,), None, {}),
    ("registry_event", "sysmon", (14,), None, {}),
    ("registry_add", "sysmon", (12,), "CreateKey", {}),
    ("registry_delete", "sysmon", (12,), "DeleteKey", {}),
    ("registry_delete", "sysmon", (12,), "DeleteValue", {}),
    ("registry_set", "sysmon", (13,), None, {}),
    ("registry_rename", "sysmon", (14,), None, {}),
    ("create_stream_hash", "sysmon", (15,), None, {}),
    ("pipe_created", "sysmon", (17,), None, {}),
    ("pipe_created", "sysmon", (18,), None, {}),
    ("wmi_event", "sysmon", (19,), None, {}),
    ("wmi_event", "sysmon", (20,), None, {}),
    ("wmi_event", "sysmon", (21,), None, {}),
    ("dns_query", "sysmon", (22,), None, {}),
    ("file_delete", "sysmon", (23,), None, {}),
    ("clipboard_change", "sysmon", (24,), None, {}),
    ("process_tampering", "sysmon", (25,), None, {}),
    ("file_delete_detected", "sysmon", (26,), None, {}),
    ("file_block_executable", "sysmon", (27,), None, {}),
    ("file_block_shredding", "sysmon", (28,), None, {}),
    ("file_executable_detected", "sysmon", (29,), None, {}),
    ("sysmon_error", "sysmon", (255,), None, {}),
    ("ps_module", "powershell", (4103,), None, {}),
    ("ps_script", "powershell", (4104,), None, {}),
    ("ps_classic_start", "powershell-classic", (400,), None, {}),
    ("ps_classic_provider_start", "powershell-classic", (600,), None, {}),
    ("ps_classic_script", "powershell-classic", (800,), None, {}),
    (
        "antivirus",
        "windefend",
        (1006, 1007, 1008, 1009, 1010, 1011, 1012, 1017, 1018, 1019, 1115, 1116),
        None,
        {"Signature": "ThreatName", "Filename": "Path"},
    ),
)
_SERVICE_CHANNELS: dict[str, tuple[str, ...]] = {
    "application": ("Application",),
    "security": ("Security",),
    "system": ("System",),
    "ntlm": ("Microsoft-Windows-NTLM/Operational",),
    "sysmon": ("Microsoft-Windows-Sysmon/Operational",),
    "powershell": ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"),
    "powershell-classic": ("Windows PowerShell",),
    "taskscheduler": ("Microsoft-Windows-TaskScheduler/Operational",),
    "wmi": ("Microsoft-Windows-WMI-Activity/Operational",),
    "dhcp": ("Microsoft-Windows-DHCP-Server/Operational",),
    "printservice-admin": ("Microsoft-Windows-PrintService/Admin",),
    "smbclient-security": ("Microsoft-Windows-SmbClient/Security",),
    "smbclient-connectivity": ("Microsoft-Windows-SmbClient/Connectivity",),
    "smbserver-connectivity": ("Microsoft-Windows-SMBServer/Connectivity",),
    "printservice-operational": ("Microsoft-Windows-PrintService/Operational",),
    "terminalservices-localsessionmanager": (
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
    ),
    "codeintegrity-operational": ("Microsoft-Windows-CodeIntegrity/Operational",),
    "applocker": (
        "Microsoft-Windows-AppLocker/MSI and Script",
        "Microsoft-Windows-AppLocker/EXE and DLL",
        "Microsoft-Windows-AppLocker/Packaged app-Deployment",
        "Microsoft-Windows-AppLocker/Packaged app-Execution",
    ),
    "msexchange-management": ("MSExchange Management",),
    "windefend": ("Microsoft-Windows-Windows Defender/Operational",),
    "firewall-as": ("Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",),
    "bits-client": ("Microsoft-Windows-Bits-Client/Operational",),
    "security-mitigations": (
        "Microsoft-Windows-Security-Mitigations/Kernel Mode",
        "Microsoft-Windows-Security-Mitigations/User Mode",
    ),
    "diagnosis-scripted": ("Microsoft-Windows-Diagnosis-Scripted/Operational",),
    "shell-core": ("Microsoft-Windows-Shell-Core/Operational",),
    "openssh": ("OpenSSH/Operational",),
    "ldap": ("Microsoft-Windows-LDAP-Client/Debug",),
    "bitlocker": ("Microsoft-Windows-BitLocker/BitLocker Management",),
    "vhdmp": ("Microsoft-Windows-VHDMP/Operational",),
    "appxdeployment-server": ("Microsoft-Windows-AppXDeploymentServer/Operational",),
    "lsa-server": ("Microsoft-Windows-LSA/Operational",),
    "appxpackaging-om": ("Microsoft-Windows-AppxPackaging/Operational",),
    "dns-client": ("Microsoft-Windows-DNS Client Events/Operational",),
    "appmodel-runtime": ("Microsoft-Windows-AppModel-Runtime/Admin",),
    "capi2": ("Microsoft-Windows-CAPI2/Operational",),
    "certificateservicesclient-lifecycle-system": (
        "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational",
    ),
    "kernel-shimengine": (
        "Microsoft-Windows-Kernel-ShimEngine/Operational",
        "Microsoft-Windows-Kernel-ShimEngine/Diagnostic",
    ),
    "application-experience": (
        "Microsoft-Windows-Application-Experience/Program-Telemetry",
        "Microsoft-Windows-Application-Experience/Program-Compatibility-Assistant",
    ),
    "ntfs": ("Microsoft-Windows-Ntfs/Operational",),
    "hyper-v-worker": ("Microsoft-Windows-Hyper-V-Worker",),
    "kernel-event-tracing": ("Microsoft-Windows-Kernel-EventTracing",),
    "sense": ("Microsoft-Windows-SENSE/Operational",),
    "servicebus-client": (
        "Microsoft-ServiceBus-Client/Admin",
        "Microsoft-ServiceBus-Client/Operational",
    ),
    "iis-configuration": ("Microsoft-IIS-Configuration/Operational",),
}


# Sysmon for Linux writes the same event ids as Sysmon for Windows to this channel.
_LINUX_SYSMON_CHANNEL = "Linux-Sysmon/Operational"

_CHANNEL_SERVICE: dict[str, str] = {
    channel.lower(): service
    for service, channels in _SERVICE_CHANNELS.items()
    for channel in channels
}


@dataclass(frozen=True, slots=True)
class SourceProfile:
    """What an event is, in Sigma ``logsource`` terms, and the field aliases it gets.

    ``aliases`` are ``(sigma_field, event_field)`` pairs: thor.yml's field mappings, added to the
    event under the Sigma name when the event lacks that field.
    """

    product: str | None
    services: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    aliases: tuple[tuple[str, str], ...] = ()


def rule_applies(logsource: SigmaLogSource, profile: SourceProfile) -> bool:
    """True when a rule with this ``logsource`` must be evaluated on events of this profile.

    Every attribute the rule sets must hold for the event; attributes the rule leaves out match
    anything (a rule with ``product: windows`` only sees every Windows event).
    """
    if logsource.product is not None and logsource.product.lower() != profile.product:
        return False
    if logsource.service is not None and logsource.service.lower() not in profile.services:
        return False
    return not (
        logsource.category is not None and logsource.category.lower() not in profile.categories
    )


@functools.lru_cache(maxsize=4096)
def windows_profile(channel: str, event_id: int | None, event_type: str | None) -> SourceProfile:
    """Profile of a Windows event from its channel, event id and (Sysmon 12) ``EventType``."""
    lowered = channel.lower()
    product = "windows"
    service = _CHANNEL_SERVICE.get(lowered)
    if lowered == _LINUX_SYSMON_CHANNEL.lower():
        product, service = "linux", "sysmon"
    categories: set[str] = set()
    aliases: list[tuple[str, str]] = []
    if service is not None and event_id is not None:
        for category, cat_service, event_ids, cat_event_type, fieldmap in _CATEGORY_EVENTS:
            if cat_service != service or event_id not in event_ids:
                continue
            if cat_event_type is not None and cat_event_type != event_type:
                continue
            categories.add(category)
            aliases.extend(fieldmap.items())
    return SourceProfile(
        product=product,
        services=frozenset({service} if service else ()),
        categories=frozenset(categories),
        aliases=tuple(sorted(set(aliases))),
    )


def windows_profiles() -> frozenset[SourceProfile]:
    """Every profile a Windows event can get: each channel with each event id the table knows."""
    out = {SourceProfile(product="windows"), windows_profile("", None, None)}
    for service, channels in _SERVICE_CHANNELS.items():
        rows = [(ids, etype) for _, svc, ids, etype, _ in _CATEGORY_EVENTS if svc == service]
        for channel in channels:
            out.add(windows_profile(channel, None, None))
            for ids, etype in rows:
                for event_id in ids:
                    out.add(windows_profile(channel, event_id, etype))
    return frozenset(out)


CEIBA_CATEGORIES = frozenset({"authentication", "iam", "configuration", "web", "api"})


@functools.lru_cache(maxsize=64)
def ceiba_profile(category: str) -> SourceProfile:
    """Profile of the platform's own security events: ``product: ceiba``, ``category`` as sent."""
    return SourceProfile(product="ceiba", categories=frozenset({category.lower()}))


LINUX_AUDITD = SourceProfile(product="linux", services=frozenset({"auditd"}))
LINUX_SYSLOG = SourceProfile(product="linux", services=frozenset({"syslog"}))
LINUX_AUTH = SourceProfile(product="linux", services=frozenset({"syslog", "auth"}))
WEBSERVER = SourceProfile(product=None, categories=frozenset({"webserver"}))
UNKNOWN = SourceProfile(product=None)
