"""EC2's host names for guest addresses.

One function per kind of name, used by DescribeInstances (PrivateDnsName, PublicDnsName) and
the metadata service (`local-hostname`, `hostname`, `public-hostname`), so an instance's names
are the same in both.
"""

from __future__ import annotations


def private_dns_name(region: str, address: str) -> str:
    """EC2's private DNS name for a guest address (`ip-10-1-0-5.<region>.compute.internal`)."""
    return f"ip-{address.replace('.', '-')}.{region}.compute.internal"


def public_dns_name(region: str, address: str) -> str:
    """The public DNS name of an Elastic IP (`ec2-203-0-113-5.<region>.compute.internal`).

    AWS's names end in `compute.amazonaws.com`, a domain cloudgate does not answer for; the
    shape (`ec2-` and the dashed address) is AWS's, so scripts that parse it still work.
    """
    return f"ec2-{address.replace('.', '-')}.{region}.compute.internal"
