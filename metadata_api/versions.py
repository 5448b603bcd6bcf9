"""The metadata versions served, CloudStack's short paths, and the cloud's identifier.

Every dated version AWS lists is an alias of `latest`: the content does not vary by version
here, and clients (cloud-init asks for `2009-04-04` and `2021-03-23`) only need the paths
they know to be there.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

LATEST = "latest"
VERSIONS = (
    "1.0",
    "2007-01-19",
    "2007-03-01",
    "2007-08-29",
    "2007-10-10",
    "2007-12-15",
    "2008-02-01",
    "2008-09-01",
    "2009-04-04",
    "2011-01-01",
    "2011-05-01",
    "2012-01-12",
    "2014-02-25",
    "2014-11-05",
    "2015-10-20",
    "2016-04-19",
    "2016-06-30",
    "2016-09-02",
    "2018-03-28",
    "2018-08-17",
    "2018-09-24",
    "2019-10-01",
    "2020-10-27",
    "2021-01-03",
    "2021-03-23",
    "2021-07-15",
    "2022-09-24",
    LATEST,
)

# `/latest/<name>`, which CloudStack's virtual router answers as `/latest/meta-data/<name>`.
CLOUDSTACK_SHORT_FORMS = frozenset(
    {
        "availability-zone",
        "cloud-identifier",
        "instance-id",
        "local-hostname",
        "local-ipv4",
        "public-hostname",
        "public-ipv4",
        "public-keys",
        "service-offering",
        "vm-id",
    }
)


def cloud_identifier(installation_key: bytes) -> str:
    """CloudStack's `cloud.identifier`: a uuid fixed per installation.

    Derived from the installation key (a one-way hash of it), so that it is stable across
    servers and restarts without being a copy of the ROOT domain's uuid.
    """
    digest = hmac.new(installation_key, b"cloudgate/cloud-identifier", hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
