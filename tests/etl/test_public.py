"""The public surfaces of fraudpipe.data and fraudpipe.etl are pinned."""

from __future__ import annotations

import fraudpipe.data
import fraudpipe.etl


def test_data_exports() -> None:
    assert sorted(fraudpipe.data.__all__) == [
        "DEFAULT_CUSTOMERS", "KAGGLE_COLUMNS", "generate_kaggle_frames",
        "generate_kaggle_tables", "write_kaggle_files"]


def test_etl_exports() -> None:
    assert sorted(fraudpipe.etl.__all__) == sorted([
        "AwsCrawler", "AwsEtl", "EtlLocations", "LocalCrawler", "LocalEtl",
        "check_raw_headers", "crawl_folder", "etl_locations", "get_crawler_status",
        "get_etl_status", "glue_names", "run_etl", "start_crawler", "start_etl", "table_name"])
    for name in fraudpipe.etl.__all__:
        assert getattr(fraudpipe.etl, name) is not None
