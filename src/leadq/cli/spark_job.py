"""The file to hand to ``spark-submit``: it runs ``leadq score --engine spark`` with the master,
resources and settings that spark-submit was given.

    spark-submit --master yarn "$(python -m leadq.cli.spark_job)" --leads s3a://… --out s3a://…

Run without arguments (``python -m leadq.cli.spark_job``) it prints its own path, for the line
above.
"""

from __future__ import annotations

import sys

from leadq.cli import main


def run(arguments: list[str]) -> None:
    sys.argv = ["leadq", "score", "--engine", "spark", *arguments]
    main()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        run(sys.argv[1:])
    else:
        print(__file__)
