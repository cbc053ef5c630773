"""Errors of the deploy commands, one class per failure mode.

    FraudpipeError
    └── DeployError
        ├── AwsCredentialsError   no AWS credentials found (checked before any call)
        ├── AwsRegionError        no region given or configured (checked before any call)
        ├── StackNameError        a stack name CloudFormation (or our resource names) would refuse
        ├── StackNotFoundError    the named stack (or its state machine) does not exist
        ├── ExecutionNotFoundError no execution of that name in the stack's state machine
        ├── StackOperationError   create/update/delete ended in a failed state (reasons attached)
        └── PackagingError        the Lambda image build context or image build failed
"""

from __future__ import annotations

from fraudpipe.errors import FraudpipeError

__all__ = [
    "AwsCredentialsError",
    "AwsRegionError",
    "DeployError",
    "ExecutionNotFoundError",
    "PackagingError",
    "StackNameError",
    "StackNotFoundError",
    "StackOperationError",
]


class DeployError(FraudpipeError):
    """Base class of the errors of ``fraudpipe template|deploy|teardown`` and ``--stack``."""


class AwsCredentialsError(DeployError):
    """No AWS credentials were found in the environment, profile or instance metadata."""


class AwsRegionError(DeployError):
    """No AWS region was given (``--region``) nor configured (``AWS_REGION``, profile)."""


class StackNameError(DeployError):
    """The stack name is not usable (pattern or length)."""


class StackNotFoundError(DeployError):
    """The named stack does not exist in this account and region."""


class ExecutionNotFoundError(DeployError):
    """No execution of that name exists in the stack's state machine."""


class StackOperationError(DeployError):
    """A stack operation ended in a failed state; the message lists the failed resources."""


class PackagingError(DeployError):
    """The Lambda image could not be prepared or built."""
