"""Domain errors shared by the library, the handlers and the state machine.

The state machine's ``ErrorEquals`` matches on the *class name* of an exception raised by a
handler (Lambda reports ``errorType`` = class name), so these names are part of the ASL contract:
rename one and the generated ``statemachines/pipeline.asl.json`` must change with it.

    FraudpipeError
    ├── InputValidationError          execution input refused before anything starts
    ├── DataValidationError           input data unusable (missing columns, empty file)
    ├── CrawlerError                  a crawl failed (e.g. headers disagree)
    ├── EtlError                      the ETL transform failed
    ├── EngineError
    │   ├── SimultaneousTrainingError a major version is already training (caught by the ASL)
    │   ├── ResourceNotFoundError     unknown model / version / detector / job
    │   ├── RuleSyntaxError           a rule expression was refused (position and reason)
    │   ├── TrainingError             training failed
    │   ├── StatusTransitionError     a status change AFD does not allow (e.g. ERROR -> ACTIVE)
    │   ├── NoActiveDetectorError     scoring asked for with no ACTIVE detector version
    │   └── RegistryLockTimeoutError  the registry's lock (file or S3 lease) stayed busy
    ├── QualityGateError              the model is not good enough to deploy
    ├── ReviewError                   the human-review loop could not start or collect
    └── TransientError                worth retrying (the ASL retries it with backoff)
"""

from __future__ import annotations


class FraudpipeError(Exception):
    """Base class of every error fraudpipe raises on purpose."""


class InputValidationError(FraudpipeError):
    """The execution input does not match the schema; ``problems`` lists ``path: reason``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid execution input: " + "; ".join(self.problems))


class DataValidationError(FraudpipeError):
    """Input data cannot be used at all (missing required columns, empty file)."""


class CrawlerError(FraudpipeError):
    """A crawl failed; the message names the files and columns involved."""


class EtlError(FraudpipeError):
    """The ETL transform failed."""


class EngineError(FraudpipeError):
    """Base class of fraud-engine errors (mirrors AFD's error families)."""


class SimultaneousTrainingError(EngineError):
    """Simultaneous training for the same major version not allowed (AFD ValidationException)."""


class ResourceNotFoundError(EngineError):
    """A model, model version, detector, detector version or job does not exist."""


class RuleSyntaxError(EngineError):
    """A rule expression was refused; the message gives the position and the reason."""


class TrainingError(EngineError):
    """Training a model version failed."""


class StatusTransitionError(EngineError):
    """A model or detector version cannot move from its current status to the one asked for."""


class NoActiveDetectorError(EngineError):
    """Scoring needs an ACTIVE detector version and there is none."""


class QualityGateError(FraudpipeError):
    """The trained model is below the execution's quality bar (e.g. AUC < min_auc)."""


class ReviewError(FraudpipeError):
    """The human-review loop could not start or collect verdicts."""


class TransientError(FraudpipeError):
    """A failure worth retrying; the state machine retries it with backoff."""


class RegistryLockTimeoutError(EngineError):
    """The engine registry's lock (file or S3 lease) could not be taken in time."""
