"""Every gate that lets today's workflow code replay histories recorded by older code, in one table.

A running enrollment replays its whole history whenever a worker picks it up again (after a restart, or
once evicted from the cache), so a change to the commands the workflow issues must keep older runs on the
path they took. Two mechanisms are used:

- **revisions** (`contracts.REVISION`): the workflow code sends its revision to begin_enrollment, which
  hands it back; the choice is in that local activity's recorded result, so a replay follows the revision
  the run's first task chose, with no history event of its own. Results recorded before the field read as
  1. Runs continued as new have no begin and follow revision 1.
- **patches** (`workflow.patched`): a marker in history, used before revisions existed.

Gates, what each keeps for older runs, and the fixtures (tests/fixtures/histories/) that replay them:
- `BATCHED_STEPS` patch (batches_steps): steps written one by one (`record_step`); before-batched-steps/.
- revision < 2 (shows_every_node; batches_steps without the patch): CurrentNode upserted at every node;
  before-revision-2/.
- revision < 3 (last_send_closes): the last send does not record the end, `finish_enrollment` follows it;
  before-revision-3/.
- no gate, begin without `read` (JourneyWorkflow._start_read): a begin result recorded without a profile
  replays, and the start branch's read_profile after it; before-begin-reads/.

When to retire a gate: once no run that could take the old path is open. For a revision-N gate, that is
when `temporal workflow count --query "ExecutionStatus='Running' AND StartTime < '<deploy of revision N>'"`
answers 0, and no run continues as new (continued runs follow revision 1, so the revision-1 gates stay
while journeys can run long enough to be continued; carrying the revision in CarriedState would end that).
Then delete the gate, its branch and its fixtures folder together; the replay tests say if anything still
needs it. The activities kept only for old histories (`record_step`, `finish_enrollment` after a last
send) go with their gates.
"""

from __future__ import annotations

from temporalio import workflow

# Patch id: steps are buffered and written in one local activity when the enrollment waits or ends.
BATCHED_STEPS = "batched-steps"


def batches_steps(revision: int) -> bool:
    return revision >= 2 or workflow.patched(BATCHED_STEPS)


def shows_every_node(revision: int) -> bool:
    """Revision 1 upserted CurrentNode at every node; later ones only where the enrollment stops."""
    return revision < 2


def last_send_closes(revision: int) -> bool:
    return revision >= 3
