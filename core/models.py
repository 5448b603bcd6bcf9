"""Every table of the core, imported in one place so that the metadata is complete."""

from core.buckets import Bucket
from core.configuration import Configuration
from core.db import Base
from core.events import Event
from core.identity import Account, Domain, User
from core.infra import Cluster, Host, ImageStore, Pod, StoragePool, Zone
from core.jobs import AsyncJob, ManagementServer
from core.limits import ResourceCount
from core.offerings import DiskOffering, ServiceOffering
from core.templates import Template
from core.vms.models import VirtualMachine
from core.volumes import Volume

__all__ = [
    "Account",
    "AsyncJob",
    "Base",
    "Bucket",
    "Cluster",
    "Configuration",
    "DiskOffering",
    "Domain",
    "Event",
    "Host",
    "ImageStore",
    "ManagementServer",
    "Pod",
    "ResourceCount",
    "ServiceOffering",
    "StoragePool",
    "Template",
    "User",
    "VirtualMachine",
    "Volume",
    "Zone",
]
