"""The Lambda functions the stack deploys: one per handler module, with its size and needs.

Why a table: memory, timeout and the AWS permissions of each handler are decided here once, next
to each other, so the template, the IAM test and the docs read the same facts. The handler list
itself comes from the state machine (``statemachines.pipeline.FUNCTIONS`` for task states and
``NON_STATE_FUNCTIONS`` for the realtime API and the A2I resume), never typed twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from statemachines.pipeline import FUNCTIONS, NON_STATE_FUNCTIONS

__all__ = [
    "FUNCTION_SPECS", "FunctionSpec", "logical_id", "missing_specs", "state_function_modules",
]

#: what a handler touches on AWS; each need becomes an IAM statement scoped to the stack's resources
CRAWLER, ETL, DATA_READ, DATA_WRITE, ENGINE, REVIEW, RESUME = (
    "crawler", "etl", "data_read", "data_write", "engine", "review", "resume")


@dataclass(frozen=True)
class FunctionSpec:
    """One handler: ``functions/<module>.py``; ``memory`` in MB, ``timeout`` in seconds."""

    module: str
    memory: int
    timeout: int
    needs: tuple[str, ...]
    description: str

    @property
    def handler(self) -> str:
        return f"functions.{self.module}.handler"

    @property
    def substitution(self) -> str:
        """``StartCrawlerFunctionArn``: the DefinitionSubstitutions key of the ASL."""
        return {**FUNCTIONS, **NON_STATE_FUNCTIONS}[self.module]

    @property
    def short_name(self) -> str:
        """``start-crawler``: the function name is ``<stack>-<short_name>``."""
        return self.module.replace("_", "-")


def logical_id(module: str) -> str:
    """``start_crawler`` -> ``StartCrawlerFunction`` (the template's logical id)."""
    return "".join(part.capitalize() for part in module.split("_")) + "Function"


_SPECS = (
    FunctionSpec("start_crawler", 256, 60, (CRAWLER,), "StartCrawler: start the raw crawler"),
    FunctionSpec("get_crawler_status", 256, 60, (CRAWLER,), "GetCrawlerStatus"),
    FunctionSpec("start_etl", 512, 120, (ETL, DATA_READ), "StartEtl: check headers, start job"),
    FunctionSpec("get_etl_status", 512, 60, (ETL, DATA_READ), "GetEtlStatus"),
    # training reads the whole training file into LightGBM: the seed needed 1 GB for 300 MB
    FunctionSpec("create_model_version", 3008, 900, (ENGINE, DATA_READ, DATA_WRITE),
                 "CreateModelVersion: train a model version"),
    FunctionSpec("get_training_status", 1024, 120, (ENGINE, DATA_READ, DATA_WRITE),
                 "GetTrainingStatus"),
    FunctionSpec("quality_gate", 512, 60, (ENGINE, DATA_READ), "QualityGate: AUC threshold"),
    FunctionSpec("deploy_detector_version", 1024, 120, (ENGINE, DATA_READ, DATA_WRITE),
                 "DeployDetectorVersion"),
    FunctionSpec("start_batch_prediction", 3008, 900, (ENGINE, DATA_READ, DATA_WRITE),
                 "StartBatchPrediction: score the batch file"),
    FunctionSpec("get_batch_status", 2048, 300, (ENGINE, DATA_READ, DATA_WRITE),
                 "GetBatchStatus: outcome counts, review candidates"),
    FunctionSpec("start_human_review", 1024, 300, (REVIEW, DATA_READ, DATA_WRITE),
                 "StartHumanReview: A2I loops for in-band rows"),
    FunctionSpec("collect_verdicts", 1024, 300, (REVIEW, DATA_READ, DATA_WRITE),
                 "CollectVerdicts: labels from answered loops"),
    FunctionSpec("predict", 2048, 29, (ENGINE, REVIEW, DATA_READ),
                 "Realtime GET /predict behind API Gateway"),
    FunctionSpec("resume_review", 512, 60, (REVIEW, RESUME, DATA_READ, DATA_WRITE),
                 "A2I status change: store labels, resume the waiting execution"),
)

#: every handler module the stack deploys, keyed by module
FUNCTION_SPECS: dict[str, FunctionSpec] = {spec.module: spec for spec in _SPECS}


def state_function_modules() -> list[str]:
    """Modules whose ARNs the state machine's definition needs (its substitutions)."""
    return list(FUNCTIONS)



def missing_specs() -> list[str]:
    """Handler modules of the state machine that have no spec here (must be empty to deploy)."""
    return sorted((set(FUNCTIONS) | set(NON_STATE_FUNCTIONS)) - set(FUNCTION_SPECS))
