"""The instance metadata service: what a VM learns about itself over HTTP (cloud-init's source).

EC2's paths (`/latest/meta-data/…`, `/latest/user-data`, `/latest/dynamic/…`, IMDSv2 tokens)
and CloudStack's virtual router paths, merged, answered per VM from the core (read only).
"""
