"""Job runs in the table of the system that owns the job (ADR 0012, ADR 0014): the job runtime
and that system's API are the only writers of its run state.

Keys (every pk starts with `T#<tenant>` from the verified context)
* `T#<tenant>#RUN#<run_id>` / `run`                   the run, with one entry in each listing index:
    gsi1 `T#<tenant>#RUNS`                              / `<created_at>#<run_id>`   all runs
    gsi2 `T#<tenant>#RUNS#S#<status>`                   / `<created_at>#<run_id>`   by status (moves on each transition)
    gsi3 `T#<tenant>#RUNS#J#<job>`                      / `<created_at>#<run_id>`   by job
    gsi4 `T#<tenant>#RUNS#J#<job>#S#<status>`           / `<created_at>#<run_id>`   by job and status
    gsi5 `P#runs#failed` (sparse, only while failed)    / `<finished_at>#<tenant>#<run_id>`   operators' view
* `T#<tenant>#IDEM#<job>#<key>` / `idem`              idempotency claim -> run_id, until `expires_at`
* `T#<tenant>#SLOTS#...` / `slots`                    concurrency leases (dal/slots.py)

Every filter of `GET /runs` is one Query of one partition, newest first: no filtering of a
tenant's history. gsi5 is the only key outside a tenant: it is written by the worker and the API
of the run's own tenant and read only by the `platform:operate` route (`AdminRunStore`).

A run and its claim are written in one transaction, conditional on absence, so concurrent
duplicates create one run. State changes are conditional on the status the caller saw, and move
the run's status keys (gsi2, gsi4, gsi5) in the same write.
"""

from __future__ import annotations

import time
from typing import Any

from ninefold_core.dynamo import ConditionFailed, Page, PlatformRepository, TenantRepository, deserialize, serialize
from ninefold_core.tenant import TenantContext

RUNS_INDEX = "gsi1"
STATUS_INDEX = "gsi2"
JOB_INDEX = "gsi3"
JOB_STATUS_INDEX = "gsi4"
FAILED_INDEX = "gsi5"
INDEXES = (RUNS_INDEX, STATUS_INDEX, JOB_INDEX, JOB_STATUS_INDEX, FAILED_INDEX)
RUN_SK = "run"
# Run items carry `kind = "job_run"` and a `revision` counted up by every write: the table stream
# turns each into a `job_run.changed` event (ninefold_core.events.relay), whose readers keep the
# highest revision they saw (events may arrive out of order).
RUN_KIND = "job_run"
REVISION = "revision"
IDEM_SK = "idem"
PLATFORM_NAMESPACE = "runs"
FAILED = ("failed",)


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in item.items() if k not in ("pk", "sk") and not (k.startswith("gsi") and k[-2:] in ("pk", "sk"))
    }


def _status_parts(status: str) -> tuple[str, ...]:
    return ("RUNS", "S", status)


def _job_parts(job: str) -> tuple[str, ...]:
    return ("RUNS", "J", job)


def _job_status_parts(job: str, status: str) -> tuple[str, ...]:
    return ("RUNS", "J", job, "S", status)


def _run_pk(run_id: str) -> tuple[str, str]:
    return ("RUN", run_id)


class RunStore:
    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.repo = TenantRepository(table_name, ctx, client)

    def get(self, run_id: str) -> dict[str, Any] | None:
        return self.repo.get(_run_pk(run_id), RUN_SK, consistent=True)

    def create(
        self, run: dict[str, Any], *, idempotency_ttl: int, now: float | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Create `run` (status queued); (the run, True), or (the existing run, False) when this
        run id already exists or its idempotency key is claimed by a live run."""
        now = time.time() if now is None else now
        run_id, key = run["run_id"], run.get("idempotency_key")
        order = f"{run['created_at']}#{run_id}"
        gsi = {
            RUNS_INDEX: (("RUNS",), order),
            STATUS_INDEX: (_status_parts(run["status"]), order),
            JOB_INDEX: (_job_parts(run["job"]), order),
            JOB_STATUS_INDEX: (_job_status_parts(run["job"], run["status"]), order),
        }
        run = {**run, "kind": RUN_KIND, REVISION: 1, "tenant_id": self.repo.ctx.tenant_id}
        ops = [self.repo.put_op(_run_pk(run_id), RUN_SK, run, if_absent=True, gsi=gsi)]
        if key:
            expires = int(now + idempotency_ttl)
            claim = {"run_id": run_id, "expires_at": expires}
            ops.append(self.repo.put_op(("IDEM", run["job"], key), IDEM_SK, claim, if_absent=True, ttl=expires))
        try:
            self.repo.transact(ops)
            return run, True
        except ConditionFailed:
            pass
        existing = self.get(run_id)
        if existing is not None:
            return existing, False
        claimed = self.repo.get(("IDEM", run["job"], key), IDEM_SK, consistent=True) if key else None
        if claimed is not None and int(claimed["expires_at"]) > now:
            first = self.get(str(claimed["run_id"]))
            if first is not None:
                return first, False
        if claimed is not None:
            # The claim expired (TTL deletion is lazy): take it over, guarded by its old run id.
            expires = int(now + idempotency_ttl)
            self.repo.update(
                ("IDEM", run["job"], str(key)),
                IDEM_SK,
                {"run_id": run_id, "expires_at": expires, "ttl": expires},
                expected={"run_id": claimed["run_id"]},
                return_item=False,
            )
        self.repo.put(_run_pk(run_id), RUN_SK, run, if_absent=True, gsi=gsi)
        return run, True

    def discard_unsent(self, run: dict[str, Any]) -> bool:
        """Take back a run whose first message could not be sent, so nothing will ever run it: the
        run and its idempotency claim go together and a retry with the same key starts afresh. Only
        while nobody has touched it (queued, revision 1): if the send did get through after all and
        a worker already has the run, it stays (False)."""
        run_id, key = str(run["run_id"]), run.get("idempotency_key")
        ops = [self.repo.delete_op(_run_pk(run_id), RUN_SK, expected={"status": "queued", REVISION: 1})]
        if key:
            ops.append(self.repo.delete_op(("IDEM", str(run["job"]), str(key)), IDEM_SK, expected={"run_id": run_id}))
        try:
            self.repo.transact(ops)
        except ConditionFailed:
            return False
        return True

    def listing_keys(self, run: dict[str, Any]) -> dict[str, str]:
        """Every index key of `run` in its current status (what a read model of runs written
        elsewhere needs to list them like its own: functions/workflows/dal/runs.py)."""
        order = f"{run['created_at']}#{run['run_id']}"
        keys = {
            f"{RUNS_INDEX}pk": self.repo.index_key(RUNS_INDEX, "RUNS"),
            f"{STATUS_INDEX}pk": self.repo.index_key(STATUS_INDEX, *_status_parts(run["status"])),
            f"{JOB_INDEX}pk": self.repo.index_key(JOB_INDEX, *_job_parts(run["job"])),
            f"{JOB_STATUS_INDEX}pk": self.repo.index_key(
                JOB_STATUS_INDEX, *_job_status_parts(run["job"], run["status"])
            ),
        }
        keys |= {f"{index}sk": order for index in (RUNS_INDEX, STATUS_INDEX, JOB_INDEX, JOB_STATUS_INDEX)}
        if run["status"] == "failed":
            platform = PlatformRepository(self.repo.table_name, PLATFORM_NAMESPACE)
            keys[f"{FAILED_INDEX}pk"] = platform.index_key(FAILED_INDEX, *FAILED)
            keys[f"{FAILED_INDEX}sk"] = f"{run.get('finished_at') or ''}#{self.repo.ctx.tenant_id}#{run['run_id']}"
        return keys

    def transition(self, run_id: str, expected_status: str, changes: dict[str, Any], *, job: str) -> dict[str, Any]:
        """Apply `changes` if the run is still `expected_status`; raises `ConditionFailed`. A status
        change moves the run between the status partitions (gsi2, gsi4; gsi5 while failed)."""
        request = self.repo.update_op(_run_pk(run_id), RUN_SK, changes, expected={"status": expected_status})["Update"]
        names = dict(request["ExpressionAttributeNames"])
        values = deserialize(request["ExpressionAttributeValues"])
        keys: dict[str, str] = {}
        removes: list[str] = []
        status = changes.get("status")
        if status is not None and status != expected_status:
            keys[f"{STATUS_INDEX}pk"] = self.repo.index_key(STATUS_INDEX, *_status_parts(status))
            keys[f"{JOB_STATUS_INDEX}pk"] = self.repo.index_key(JOB_STATUS_INDEX, *_job_status_parts(job, status))
            if status == "failed":
                platform = PlatformRepository(self.repo.table_name, PLATFORM_NAMESPACE)
                finished = str(changes.get("finished_at", ""))
                keys[f"{FAILED_INDEX}pk"] = platform.index_key(FAILED_INDEX, *FAILED)
                keys[f"{FAILED_INDEX}sk"] = f"{finished}#{self.repo.ctx.tenant_id}#{run_id}"
                keys["tenant_id"] = self.repo.ctx.tenant_id
            elif expected_status == "failed":
                removes = [f"{FAILED_INDEX}pk", f"{FAILED_INDEX}sk"]
        expression = request["UpdateExpression"]
        for i, (name, value) in enumerate(keys.items()):
            names[f"#k{i}"] = name
            values[f":k{i}"] = value
            expression += f", #k{i} = :k{i}"
        if removes:
            for i, name in enumerate(removes):
                names[f"#r{i}"] = name
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        names["#rev"] = REVISION
        values[":one"] = 1
        expression += " ADD #rev :one"
        request = {
            **request,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
        }
        try:
            response = self.repo.client.update_item(**request, ReturnValues="ALL_NEW")
        except self.repo.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed("It was changed or removed meanwhile.") from None
        return _strip(deserialize(response["Attributes"]))

    def page(self, *, limit: int, cursor: str | None, status: str | None = None, job: str | None = None) -> Page:
        """Newest first; each filter combination is one partition of its own index."""
        if status and job:
            index, parts = JOB_STATUS_INDEX, _job_status_parts(job, status)
        elif status:
            index, parts = STATUS_INDEX, _status_parts(status)
        elif job:
            index, parts = JOB_INDEX, _job_parts(job)
        else:
            index, parts = RUNS_INDEX, ("RUNS",)
        return self.repo.query(parts, index=index, limit=limit, cursor=cursor, newest_first=True)
