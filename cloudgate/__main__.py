"""`python -m cloudgate` is the `cloudgate` command."""

from cloudgate.cli import main

main()
