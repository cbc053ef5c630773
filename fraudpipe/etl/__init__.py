"""Crawl and ETL: local adapters (DuckDB) of the Glue crawler and Glue job."""
