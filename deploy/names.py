"""Names derived from the stack name, account and region, known before the stack exists.

Why limit stack names to 24 lowercase characters: the data bucket is
``<stack>-data-<account>-<region>`` (S3: at most 63 lowercase characters) and function names are
``<stack>-<handler>`` (Lambda: at most 64).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploy.errors import StackNameError

__all__ = ["STACK_PATTERN", "StackNames", "check_stack_name"]

STACK_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$")


def check_stack_name(stack: str) -> str:
    if not STACK_PATTERN.match(stack) or "--" in stack:
        raise StackNameError(
            f"stack name {stack!r} must be 2-24 characters: lowercase letters, digits and single "
            "hyphens, starting with a letter (it becomes part of bucket and function names)")
    return stack


@dataclass(frozen=True)
class StackNames:
    stack: str
    account: str
    region: str

    def __post_init__(self) -> None:
        check_stack_name(self.stack)

    @property
    def data_bucket(self) -> str:
        return f"{self.stack}-data-{self.account}-{self.region}"

    @property
    def artifacts_bucket(self) -> str:
        """Shared by the account's stacks in this region; each stack writes under ``<stack>/``."""
        return f"fraudpipe-artifacts-{self.account}-{self.region}"

    @property
    def artifacts_prefix(self) -> str:
        return f"{self.stack}/"

    @property
    def ecr_repository(self) -> str:
        return f"fraudpipe/{self.stack}"

    @property
    def glue_database(self) -> str:
        return "fraudpipe_" + self.stack.replace("-", "_")

    @property
    def state_machine(self) -> str:
        return f"{self.stack}-pipeline"

    def state_machine_arn(self, partition: str = "aws") -> str:
        return (f"arn:{partition}:states:{self.region}:{self.account}:stateMachine:"
                f"{self.state_machine}")
