"""Benchmark: plan post-audit callbacks for large rosters, then dispatch a due batch.

For each roster size it measures, on a fresh SQLite file and a throwaway
local Redis server that the script starts:

- plan: parse and validate the roster rows (rosters of 1,000 workers);
- import: compute every first attempt and store the audits, workers and
  callbacks through ``import_roster``;
- dispatch: claim a batch of due callbacks and queue one rq job each.

Run with the project's environment:
``.venv/bin/python benchmarks/plan_and_dispatch.py 10000 100000 1000000``.
Results go to standard output as a Markdown table.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.campaigns.dialer import dispatch_due  # noqa: E402
from bot.campaigns.importer import import_roster  # noqa: E402
from bot.campaigns.roster import validate_rows  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.db.models import Callback  # noqa: E402
from bot.db.session import upgrade_schema  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.stack import find_redis_server, free_port  # noqa: E402

AUDIT = {
    "audit_id": "BENCH",
    "factory_id": "F1",
    "supplier_id": "S1",
    "country": "GB",
    "timezone": "Asia/Ho_Chi_Minh",
    "audit_last_day": (date.today() - timedelta(days=10)).isoformat(),
}


# The UK keeps 07700 900000 to 900999 free for fiction: 1,000 numbers, so a
# large programme is modelled as many audits of up to 1,000 workers each.
WORKERS_PER_AUDIT = 1000


def rows(count: int):
    for index in range(count):
        yield {
            "phone": f"+447700900{index:03d}",
            "language": ("en", "zh", "vi")[index % 3],
            "window_start": "18:00",
            "window_end": "20:00",
            "consent": "yes",
        }


def bench(count: int, batch: int, redis_url: str, work_dir: Path) -> dict:
    settings = load_settings(
        environ={},
        database_url=f"sqlite:///{work_dir / f'bench-{count}.db'}",
        redis_url=redis_url,
        redis_prefix=f"bench{count}",
    )
    upgrade_schema(settings.database_url)
    services = Services(settings)
    plan_seconds = import_seconds = 0.0
    for first in range(0, count, WORKERS_PER_AUDIT):
        audit = dict(AUDIT, audit_id=f"BENCH-{count}-{first // WORKERS_PER_AUDIT}")
        started = time.perf_counter()
        roster = validate_rows(audit, rows(min(WORKERS_PER_AUDIT, count - first)), check_audit_columns=False)
        plan_seconds += time.perf_counter() - started

        started = time.perf_counter()
        with services.db.session() as session:
            import_roster(session, services.vault, settings, roster)
        import_seconds += time.perf_counter() - started

    with services.db.session() as session:
        ids = [row[0] for row in session.query(Callback.id).limit(batch)]
        session.query(Callback).filter(Callback.id.in_(ids)).update(
            {Callback.due_at: datetime.now(timezone.utc) - timedelta(minutes=1)}, synchronize_session=False
        )
    started = time.perf_counter()
    queued = dispatch_due(services, limit=batch)
    dispatch_seconds = time.perf_counter() - started
    services.close()
    return {"count": count, "plan": plan_seconds, "import": import_seconds, "queued": queued, "dispatch": dispatch_seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000], help="roster sizes")
    parser.add_argument("--batch", type=int, default=1000, help="due callbacks to dispatch (default 1000)")
    args = parser.parse_args()

    work_dir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    port = free_port()
    redis = subprocess.Popen(
        [find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        print("| callbacks | plan (s) | import (s) | import per 1,000 (s) | dispatch of a due batch (s) |")
        print("|---:|---:|---:|---:|---:|")
        for size in args.sizes:
            result = bench(size, args.batch, f"redis://127.0.0.1:{port}/0", work_dir)
            print(
                f"| {size:,} | {result['plan']:.1f} | {result['import']:.1f} | "
                f"{1000 * result['import'] / size:.3f} | {result['dispatch']:.2f} ({result['queued']} jobs) |",
                flush=True,
            )
    finally:
        redis.terminate()
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
