"""The GİB side of the integrator: status and fault codes, the registered-user list.

Sending, receiving and the client of GİB's document service come with the GİB network work
(see the issues); this package holds what both the integrator and the simulator need.
"""

from entegrator.gib.codes import Action, CodeClass, Fault, Status, fault, status
from entegrator.gib.userlist import Alias, User, UserList, UserListError

__all__ = [
    "Action",
    "Alias",
    "CodeClass",
    "Fault",
    "Status",
    "User",
    "UserList",
    "UserListError",
    "fault",
    "status",
]
