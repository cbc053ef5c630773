"""Glue crawler settings, the ETL SQL and the Glue Spark job script."""
