"""A restart keeps all state: VMs, their states, buckets, objects and credentials."""

from __future__ import annotations

from pathlib import Path

import boto3
from botocore.config import Config

from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def test_restart_keeps_vms_buckets_objects_and_keys(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    caller = NativeCaller(server.native_url, server.api_key, server.secret_key)
    s3 = boto3.client(
        "s3",
        endpoint_url=server.s3_url,
        region_name="cloudgate",
        aws_access_key_id=server.api_key,
        aws_secret_access_key=server.secret_key,
        config=Config(s3={"addressing_style": "path"}),
    )
    try:
        zone = caller.call("listZones")["zone"][0]["id"]
        offering = caller.call("listServiceOfferings")["serviceoffering"][0]["id"]
        template = caller.call("listTemplates", templatefilter="featured")["template"][0]["id"]
        deployed = caller.call(
            "deployVirtualMachine",
            zoneid=zone,
            serviceofferingid=offering,
            templateid=template,
            name="survivor",
        )
        caller.wait_job(deployed["jobid"])
        s3.create_bucket(Bucket="keepsake")
        s3.put_object(Bucket="keepsake", Key="note.txt", Body=b"still here")
    finally:
        server.stop()

    server.start()
    try:
        vm = caller.call("listVirtualMachines", id=deployed["id"])["virtualmachine"][0]
        assert vm["name"] == "survivor" and vm["state"] == "Running"
        assert s3.get_object(Bucket="keepsake", Key="note.txt")["Body"].read() == b"still here"
        assert len(caller.call("listZones")["zone"]) == 1  # bootstrap did not run twice
    finally:
        server.stop()
