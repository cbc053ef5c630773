"""The pipeline state machine, built with the Step Functions Data Science SDK."""
