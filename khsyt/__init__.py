"""khsyt: Vietnamese provincial health-department plans (Kế hoạch …/KH-SYT) → curated Parquet."""

__version__ = "0.1.0"
