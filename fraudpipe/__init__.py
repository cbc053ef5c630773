"""fraudpipe: a fraud-detection pipeline defined as one AWS Step Functions state machine.

The same ASL definition and handler code run on AWS and on a local runtime; see README.md.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
