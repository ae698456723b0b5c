"""Audio in, trustworthy transcript out: offline, on a CPU.

No Prefect, no boto3, no settings here: callers pass everything in.
"""
