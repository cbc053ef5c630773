"""Deploy the pipeline to AWS."""
