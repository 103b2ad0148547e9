from huiqi.accounts.selectors import Role
from huiqi.core.permissions import grant, has_role

grant({"sample_program.view": has_role(Role.BUREAU)})
