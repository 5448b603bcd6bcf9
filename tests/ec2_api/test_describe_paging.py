"""DescribeInstances paging and filters: filters on an instance's id, state, type and tags run
on previews before the instances are rendered, and unfiltered pages render only what they
show. The answers must be the same as filtering fully rendered instances: these tests page
through an account of its own and compare every page with what the whole listing says."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.ec2_api.conftest import error_code, instance_ids, terminate_and_wait


@pytest.fixture(scope="module")
def tenant_name() -> str:
    return "describe-paging"


@pytest.fixture(scope="module")
def fleet(client: Any, image_id: str) -> Any:
    """Seven instances: three t2.small tagged tier=web, four t2.micro tagged tier=db, one of
    which is stopped."""
    web = client.run_instances(
        ImageId=image_id,
        InstanceType="t2.small",
        MinCount=3,
        MaxCount=3,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "tier", "Value": "web"}]}],
    )
    db = client.run_instances(
        ImageId=image_id,
        InstanceType="t2.micro",
        MinCount=4,
        MaxCount=4,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "tier", "Value": "db"}]}],
    )
    ids = {"web": instance_ids(web), "db": instance_ids(db)}
    everything = ids["web"] + ids["db"]
    client.get_waiter("instance_running").wait(
        InstanceIds=everything, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    client.stop_instances(InstanceIds=ids["db"][:1])
    client.get_waiter("instance_stopped").wait(
        InstanceIds=ids["db"][:1], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    yield ids
    terminate_and_wait(client, everything)


def _pages(client: Any, **arguments: Any) -> list[list[dict[str, Any]]]:
    """Every page of DescribeInstances, following NextToken."""
    pages, token = [], None
    while True:
        reply = client.describe_instances(**arguments, **({"NextToken": token} if token else {}))
        pages.append([i for r in reply["Reservations"] for i in r["Instances"]])
        token = reply.get("NextToken")
        if not token:
            return pages


def _ids(instances: list[dict[str, Any]]) -> list[str]:
    return [instance["InstanceId"] for instance in instances]


FILTER_CASES = {
    "tag": [{"Name": "tag:tier", "Values": ["web"]}],
    "tag wildcard": [{"Name": "tag:tier", "Values": ["d?"]}],
    "tag-key and tag-value": [
        {"Name": "tag-key", "Values": ["tier"]},
        {"Name": "tag-value", "Values": ["db"]},
    ],
    "state": [{"Name": "instance-state-name", "Values": ["running"]}],
    "state code": [{"Name": "instance-state-code", "Values": ["80"]}],
    "type and state": [
        {"Name": "instance-type", "Values": ["t2.micro"]},
        {"Name": "instance-state-name", "Values": ["run*"]},
    ],
    # a filter previews cannot answer, alone and beside one they can
    "availability zone": [{"Name": "availability-zone", "Values": ["*"]}],
    "tag and root device": [
        {"Name": "tag:tier", "Values": ["db"]},
        {"Name": "root-device-type", "Values": ["ebs"]},
    ],
}


@pytest.mark.parametrize("case", FILTER_CASES)
def test_filtered_pages_add_up_to_the_filtered_listing(client: Any, fleet: Any, case: str) -> None:
    filters = FILTER_CASES[case]
    whole = _ids(_pages(client, Filters=filters)[0])
    paged = _pages(client, Filters=filters, MaxResults=5)
    assert all(len(page) <= 5 for page in paged)
    assert [i for page in paged for i in _ids(page)] == whole
    # the filtered instances come back in full, not as previews
    for instance in paged[0]:
        assert instance["Placement"]["AvailabilityZone"]
        assert instance["BlockDeviceMappings"] or instance["State"]["Name"] != "running"


def test_filters_select_what_they_say(client: Any, fleet: Any) -> None:
    def selected(filters: list[dict[str, Any]]) -> set[str]:
        return set(_ids(_pages(client, Filters=filters)[0]))

    stopped = fleet["db"][0]
    assert selected(FILTER_CASES["tag"]) == set(fleet["web"])
    assert selected(FILTER_CASES["tag wildcard"]) == set(fleet["db"])
    assert selected(FILTER_CASES["tag-key and tag-value"]) == set(fleet["db"])
    assert selected(FILTER_CASES["state"]) == set(fleet["web"] + fleet["db"]) - {stopped}
    assert selected(FILTER_CASES["state code"]) == {stopped}
    assert selected(FILTER_CASES["type and state"]) == set(fleet["db"]) - {stopped}
    assert selected(FILTER_CASES["tag and root device"]) == set(fleet["db"])
    assert selected([{"Name": "instance-id", "Values": [stopped]}]) == {stopped}


def test_unfiltered_pages_cover_every_instance_once(client: Any, fleet: Any) -> None:
    whole = _ids(_pages(client)[0])
    assert set(fleet["web"] + fleet["db"]) <= set(whole)
    paged = _pages(client, MaxResults=5)
    assert len(paged) >= 2
    assert [i for page in paged for i in _ids(page)] == whole
    shown = paged[0][0]
    assert shown["SecurityGroups"] and shown["NetworkInterfaces"] is not None


def test_bad_filter_or_page_size_is_refused_before_any_work(client: Any, fleet: Any) -> None:
    with pytest.raises(ClientError) as raised:
        client.describe_instances(
            Filters=[
                {"Name": "tag:tier", "Values": ["web"]},
                {"Name": "no-such-filter", "Values": ["x"]},
            ]
        )
    assert error_code(raised) == "InvalidParameterValue"
    with pytest.raises(ClientError) as raised:
        client.describe_instances(Filters=FILTER_CASES["tag"], MaxResults=3)
    assert error_code(raised) == "InvalidParameterValue"
