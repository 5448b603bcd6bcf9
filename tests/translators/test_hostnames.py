"""EC2's private DNS names, the one function DescribeInstances and the metadata service share."""

from __future__ import annotations

from translators.hostnames import private_dns_name


def test_private_dns_name() -> None:
    assert private_dns_name("cloudgate", "10.1.0.5") == "ip-10-1-0-5.cloudgate.compute.internal"
    assert private_dns_name("eu-west-1", "172.31.0.4") == "ip-172-31-0-4.eu-west-1.compute.internal"
