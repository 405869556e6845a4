"""Move messages from a dead-letter queue back to its source queue.

    python -m scripts.redrive --dlq-url URL --queue-url URL [--max N]

Works against AWS (prefer `aws sqs start-message-move-task` there for big
backlogs) and the local cloud (set AWS_ENDPOINT_URL, or use the local cloud's
`redrive` command). Each message is sent to the source queue with its body and
attributes before it is deleted from the DLQ, so a crash mid-way can duplicate
a message but never lose one; consumers are idempotent on the envelope id.
"""

from __future__ import annotations

import argparse

from ninefold_core.queues import redrive

__all__ = ["main", "redrive"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dlq-url", required=True)
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--max", type=int, default=None)
    args = parser.parse_args(argv)
    import boto3

    moved = redrive(boto3.client("sqs"), dlq_url=args.dlq_url, queue_url=args.queue_url, max_messages=args.max)
    print(f"moved {moved} message(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
