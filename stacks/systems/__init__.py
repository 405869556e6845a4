"""The registry of systems: name -> stack class. A new system is one line here.

Which systems an app deploys comes only from the `ninefold:systems` context (see app.py).
"""

from __future__ import annotations

from typing import Final

from stacks.system import SystemStack
from stacks.systems.identity import IdentityStack
from stacks.systems.safety import SafetyStack
from stacks.systems.workflows import WorkflowsStack

SYSTEMS: Final[dict[str, type[SystemStack]]] = {
    IdentityStack.system: IdentityStack,
    SafetyStack.system: SafetyStack,
    WorkflowsStack.system: WorkflowsStack,
}
