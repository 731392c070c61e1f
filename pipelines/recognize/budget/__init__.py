"""The 预算 table family B1–B9."""
