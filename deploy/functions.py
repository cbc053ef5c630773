"""The Lambda functions the stack deploys: one per handler module, with its size and needs.

Why a table: memory, timeout and the AWS permissions of each handler are decided here once, next
to each other, so the template, the IAM test and the docs read the same facts. The handler list
itself comes from the state machine (``statemachines.pipeline.FUNCTIONS`` for task states and
``NON_STATE_FUNCTIONS`` for the realtime API and the A2I resume), never typed twice, plus the
built-in engine's worker (:data:`WORKER_FUNCTIONS`), which no state calls: CreateModelVersion
and StartBatchPrediction invoke it asynchronously.
"""

from __future__ import annotations

from dataclasses import dataclass

from statemachines.pipeline import FUNCTIONS, NON_STATE_FUNCTIONS

__all__ = [
    "FUNCTION_SPECS", "WORKER_FUNCTIONS", "WORKER_MODULE", "FunctionSpec", "function_specs",
    "logical_id", "missing_specs", "state_function_modules",
]

#: what a handler touches on AWS; each need becomes an IAM statement scoped to the stack's resources
CRAWLER, ETL, DATA_READ, DATA_WRITE, ENGINE, REVIEW, RESUME = (
    "crawler", "etl", "data_read", "data_write", "engine", "review", "resume")
#: reads the engine without changing it (realtime scoring); invokes the engine worker
ENGINE_READ, START_WORKER = "engine_read", "start_worker"

#: the built-in engine's worker: runs trainings and batch jobs (fraudpipe.aws_jobs)
WORKER_MODULE = "run_engine_job"
WORKER_FUNCTIONS: dict[str, str] = {WORKER_MODULE: "RunEngineJobFunctionArn"}


@dataclass(frozen=True)
class FunctionSpec:
    """One handler: ``functions/<module>.py``; ``memory`` in MB, ``timeout`` in seconds."""

    module: str
    memory: int
    timeout: int
    needs: tuple[str, ...]
    description: str
    #: MB of /tmp (512 to 10240): the worker copies training and batch files there
    ephemeral: int | None = None

    @property
    def handler(self) -> str:
        return f"functions.{self.module}.handler"

    @property
    def substitution(self) -> str:
        """``StartCrawlerFunctionArn``: the DefinitionSubstitutions key of the ASL."""
        return {**FUNCTIONS, **NON_STATE_FUNCTIONS, **WORKER_FUNCTIONS}[self.module]

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
    # starts training and returns: the engine worker (below) or AFD does the work
    FunctionSpec("create_model_version", 512, 120, (ENGINE, START_WORKER, DATA_READ),
                 "CreateModelVersion: start training a model version"),
    FunctionSpec("get_training_status", 1024, 120, (ENGINE, DATA_READ, DATA_WRITE),
                 "GetTrainingStatus"),
    FunctionSpec("quality_gate", 256, 60, (), "QualityGate: AUC threshold (reads its event only)"),
    FunctionSpec("deploy_detector_version", 1024, 120, (ENGINE, DATA_READ, DATA_WRITE),
                 "DeployDetectorVersion"),
    FunctionSpec("start_batch_prediction", 512, 120, (ENGINE, START_WORKER, DATA_READ),
                 "StartBatchPrediction: start scoring the batch file"),
    FunctionSpec("get_batch_status", 2048, 300, (ENGINE, DATA_READ, DATA_WRITE),
                 "GetBatchStatus: outcome counts, review candidates"),
    FunctionSpec("start_human_review", 1024, 300, (REVIEW, DATA_READ, DATA_WRITE),
                 "StartHumanReview: A2I loops for in-band rows"),
    FunctionSpec("collect_verdicts", 1024, 300, (REVIEW, DATA_READ, DATA_WRITE),
                 "CollectVerdicts: labels from answered loops"),
    FunctionSpec("predict", 2048, 29, (ENGINE_READ, REVIEW, DATA_READ),
                 "Realtime GET /predict behind API Gateway"),
    FunctionSpec("resume_review", 512, 60, (REVIEW, RESUME, DATA_READ, DATA_WRITE),
                 "A2I status change: store labels, resume the waiting execution"),
)

#: the engine worker: training reads the whole training file into LightGBM (the seed needed
#: 1 GB for 300 MB of CSV); 6 GB also buys about 3.5 vCPUs, 15 minutes is Lambda's maximum
WORKER_SPEC = FunctionSpec(WORKER_MODULE, 6144, 900, (ENGINE, DATA_READ, DATA_WRITE),
                           "Engine worker: trainings and batch scoring (invoked async)",
                           ephemeral=10240)

#: every handler module the stack may deploy, keyed by module
FUNCTION_SPECS: dict[str, FunctionSpec] = {spec.module: spec for spec in (*_SPECS, WORKER_SPEC)}


def function_specs(engine: str) -> list[FunctionSpec]:
    """The functions of a stack: the worker only with the built-in engine (AFD trains itself)."""
    return [s for s in FUNCTION_SPECS.values() if engine == "builtin" or s is not WORKER_SPEC]


def state_function_modules() -> list[str]:
    """Modules whose ARNs the state machine's definition needs (its substitutions)."""
    return list(FUNCTIONS)



def missing_specs() -> list[str]:
    """Handler modules of the state machine that have no spec here (must be empty to deploy)."""
    return sorted((set(FUNCTIONS) | set(NON_STATE_FUNCTIONS)) - set(FUNCTION_SPECS))
